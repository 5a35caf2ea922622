from django.urls import path

from . import views

app_name = "awards"

urlpatterns = [
    path("honour-roll/", views.honour_roll, name="honour_roll"),
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("organise/batches/<int:batch_id>/", views.batch_manage, name="batch_manage"),
    path(
        "organise/batches/<int:batch_id>/run-of-show/",
        views.run_of_show_edit,
        name="run_of_show",
    ),
    path(
        "organise/batches/<int:batch_id>/script/", views.announcer_script, name="script"
    ),
    path("judging/<int:batch_id>/", views.judging, name="judging"),
    path(
        "judging/welcome/<uidb64>/<token>/",
        views.JudgeWelcomeView.as_view(),
        name="judge_welcome",
    ),
]
