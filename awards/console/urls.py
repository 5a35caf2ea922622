from django.urls import path

from . import views

app_name = "awards_console"

urlpatterns = [
    path("<slug:slug>/awards/", views.awards_index, name="index"),
]
