from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardsConfig(AppConfig):
    name = "awards"
    verbose_name = _("Awards")

    def ready(self) -> None:
        from events.console.home import home_section_register

        from .console.views import judge_home_section

        home_section_register(judge_home_section)
