from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def certificate_mail_resend_check(notification: Any) -> None:
    """Refuses to announce again a certificate that is revoked (or gone)."""
    from notifications.services import NotResendable

    from .models import Certificate

    certificate = (
        Certificate.objects.filter(pk=int(notification.about_id)).first()
        if notification.about_id.isdigit()
        else None
    )
    if certificate is None or certificate.status == Certificate.Status.REVOKED:
        raise NotResendable(
            gettext(
                "This certificate is revoked: the email announcing it is not sent "
                "again."
            )
        )


class AwardsConfig(AppConfig):
    name = "awards"
    verbose_name = _("Awards")

    def ready(self) -> None:
        from events.console.home import home_section_register
        from notifications.services import resend_checker_register

        from .console.views import judge_home_section

        home_section_register(judge_home_section)
        resend_checker_register("awards.certificate", certificate_mail_resend_check)
