from django.urls import path

from . import views

app_name = "awards"

urlpatterns = [
    path("honour-roll/", views.honour_roll, name="honour_roll"),
    path("verify/<str:number>/", views.verify, name="verify"),
]
