# Korean dates and times as Korean readers write them: "2026. 12. 5." and "오전 5:13"
# (Django's own Korean formats give "2026년 12월 5일 5:13 오전", with the period after the time).
DATE_FORMAT = "Y. n. j."
TIME_FORMAT = "A g:i"
DATETIME_FORMAT = "Y. n. j. A g:i"
SHORT_DATE_FORMAT = "Y. n. j."
SHORT_DATETIME_FORMAT = "Y. n. j. A g:i"
YEAR_MONTH_FORMAT = "Y년 n월"
MONTH_DAY_FORMAT = "n월 j일"
