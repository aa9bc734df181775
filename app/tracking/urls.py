from django.urls import path

from app.tracking import views

urlpatterns = [
    path("tracking/overdue/", views.overdue, name="tracking_overdue"),
    path("tracking/stats/", views.stats, name="tracking_stats"),
    path("tracking/stats.<str:fmt>", views.stats_export, name="tracking_stats_export"),
    path("tracking/deadlines/", views.deadlines, name="tracking_deadlines"),
    path("cases/<int:case_id>/tracking/", views.case_tracking, name="tracking_case"),
    path("cases/<int:case_id>/tracking/recheck/", views.recheck_now, name="tracking_recheck_now"),
    path(
        "cases/<int:case_id>/tracking/notices/<int:tracking_id>/reply/",
        views.notice_reply,
        name="tracking_notice_reply",
    ),
    path(
        "cases/<int:case_id>/tracking/notices/<int:tracking_id>/status/",
        views.notice_status,
        name="tracking_notice_status",
    ),
    path(
        "cases/<int:case_id>/tracking/urls/<int:tracking_id>/removed/",
        views.url_removed,
        name="tracking_url_removed",
    ),
    path(
        "cases/<int:case_id>/tracking/urls/<int:tracking_id>/seen/",
        views.url_clear_flag,
        name="tracking_url_clear_flag",
    ),
    path("cases/<int:case_id>/tracking/watches/", views.watch_add, name="tracking_watch_add"),
    path(
        "cases/<int:case_id>/tracking/watches/<int:watch_id>/remove/",
        views.watch_remove,
        name="tracking_watch_remove",
    ),
    path(
        "cases/<int:case_id>/tracking/escalations/<int:escalation_id>/",
        views.escalation_detail,
        name="tracking_escalation",
    ),
    path(
        "cases/<int:case_id>/tracking/escalations/<int:escalation_id>/evidence.pdf",
        views.escalation_pdf,
        name="tracking_escalation_pdf",
    ),
]
