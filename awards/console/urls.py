from django.urls import path

from . import audit, batches, ceremony, views

app_name = "awards_console"

batch = "<slug:slug>/awards/batches/<int:batch_id>/"

urlpatterns = [
    path("<slug:slug>/awards/", views.awards_index, name="index"),
    path("<slug:slug>/awards/audit/", audit.audit_log, name="audit"),
    path(batch, batches.batch_detail, name="batch"),
    path(batch + "approve/", batches.batch_approve, name="batch_approve"),
    path(batch + "announce/", batches.batch_announce, name="batch_announce"),
    path(batch + "run-of-show/", ceremony.run_of_show_edit, name="run_of_show"),
    path(batch + "script/", ceremony.announcer_script, name="script"),
]
