"""Application configs that live in the project package."""

from django.contrib.admin.apps import AdminConfig


class PodiumAdminConfig(AdminConfig):
    """Installs ``config.admin.PodiumAdminSite`` as the default admin site."""

    default_site = "config.admin.PodiumAdminSite"
