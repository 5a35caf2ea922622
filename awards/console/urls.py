from django.urls import path

from . import audit, batches, ceremony, certificates, districts, judges, setup, views

app_name = "awards_console"

batch = "<slug:slug>/awards/batches/<int:batch_id>/"

urlpatterns = [
    path("<slug:slug>/awards/", views.awards_index, name="index"),
    path("<slug:slug>/awards/audit/", audit.audit_log, name="audit"),
    path(
        "<slug:slug>/awards/honour-roll.csv",
        certificates.honour_roll_csv,
        name="honour_roll_csv",
    ),
    path(
        "<slug:slug>/awards/honour-roll/print/",
        certificates.honour_roll_print,
        name="honour_roll_print",
    ),
    path("<slug:slug>/awards/districts/", districts.district_list, name="districts"),
    path(
        "<slug:slug>/awards/districts/<int:district_id>/",
        districts.district_rename,
        name="district_rename",
    ),
    path(
        "<slug:slug>/awards/districts/<int:district_id>/delete/",
        districts.district_delete,
        name="district_delete",
    ),
    path("<slug:slug>/awards/categories/new/", setup.category_new, name="category_new"),
    path(
        "<slug:slug>/awards/categories/<int:category_id>/edit/",
        setup.category_edit,
        name="category_edit",
    ),
    path(
        "<slug:slug>/awards/categories/<int:category_id>/batches/new/",
        setup.batch_new,
        name="batch_new",
    ),
    path(batch, batches.batch_detail, name="batch"),
    path(batch + "edit/", setup.batch_edit, name="batch_edit"),
    path(batch + "nominations/new/", setup.nomination_new, name="nomination_new"),
    path(
        batch + "nominations/import/",
        setup.nominations_import,
        name="nominations_import",
    ),
    path(
        batch + "nominations/<int:nomination_id>/edit/",
        setup.nomination_edit,
        name="nomination_edit",
    ),
    path(
        batch + "nominations/<int:nomination_id>/withdraw/",
        setup.nomination_withdraw,
        name="nomination_withdraw",
    ),
    path(batch + "approve/", batches.batch_approve, name="batch_approve"),
    path(batch + "announce/", batches.batch_announce, name="batch_announce"),
    path(batch + "run-of-show/", ceremony.run_of_show_edit, name="run_of_show"),
    path(batch + "script/", ceremony.announcer_script, name="script"),
    path(batch + "judges/", judges.judges, name="judges"),
    path(
        batch + "judges/<int:user_id>/remind/",
        judges.judge_remind,
        name="judge_remind",
    ),
    path(
        batch + "judges/<int:user_id>/remove/",
        judges.judge_remove,
        name="judge_remove",
    ),
    path(batch + "scores.csv", certificates.scores_csv, name="scores_csv"),
    path(batch + "certificates/", certificates.certificate_list, name="certificates"),
    path(
        batch + "certificates/<str:number>/revoke/",
        certificates.certificate_revoke,
        name="certificate_revoke",
    ),
    path(
        batch + "certificates/<str:number>/reissue/",
        certificates.certificate_reissue,
        name="certificate_reissue",
    ),
]
