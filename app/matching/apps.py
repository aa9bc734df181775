from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _build_pdq_indexes(**_kwargs: object) -> None:
    from app.matching.services import pdq_indexes_build

    pdq_indexes_build()


class MatchingConfig(AppConfig):
    name = "app.matching"
    label = "matching"
    verbose_name = _("Matching")

    def ready(self) -> None:
        from celery.signals import worker_process_init

        # Each worker process builds its organisations' PDQ indexes before taking tasks.
        worker_process_init.connect(_build_pdq_indexes, weak=False, dispatch_uid="matching.pdq_indexes")
