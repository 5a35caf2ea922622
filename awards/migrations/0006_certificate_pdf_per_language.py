"""A certificate's PDF is kept per language (CertificatePdf) instead of one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("awards", "0005_bilingual_content_and_districts"),
    ]

    operations = [
        migrations.RemoveField(model_name="certificate", name="pdf"),
        migrations.CreateModel(
            name="CertificatePdf",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("en", "English"), ("zh-hans", "Simplified Chinese")],
                        max_length=10,
                        verbose_name="language",
                    ),
                ),
                ("fingerprint", models.CharField(max_length=64)),
                ("pdf", models.BinaryField(editable=False, verbose_name="PDF")),
                ("rendered_at", models.DateTimeField(verbose_name="rendered at")),
                (
                    "certificate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pdfs",
                        to="awards.certificate",
                        verbose_name="certificate",
                    ),
                ),
            ],
            options={
                "verbose_name": "certificate PDF",
                "verbose_name_plural": "certificate PDFs",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("certificate", "language"),
                        name="certificate_pdf_per_language",
                    )
                ],
            },
        ),
    ]
