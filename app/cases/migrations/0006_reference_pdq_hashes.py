"""Reference.pdq_hashes: the fingerprint's PDQ hashes in plain, so the shared PDQ index is
rebuilt without decrypting every fingerprint. Existing rows are filled here, decrypting each
fingerprint once."""

from django.db import migrations, models


def fill_pdq_hashes(apps, schema_editor):
    from app.matching.services import reference_index_hashes

    Reference = apps.get_model("cases", "Reference")
    batch = []
    for ref in (
        Reference.objects.filter(pdq_hashes__isnull=True).only("id", "fingerprint").iterator(chunk_size=200)
    ):
        try:
            ref.pdq_hashes = reference_index_hashes(fingerprint=bytes(ref.fingerprint or b""))
        except ValueError:
            continue  # not a readable fingerprint: the index keeps reading pdq_hex for it
        batch.append(ref)
        if len(batch) >= 200:
            Reference.objects.bulk_update(batch, ["pdq_hashes"])
            batch = []
    if batch:
        Reference.objects.bulk_update(batch, ["pdq_hashes"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_case_notice_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="pdq_hashes",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_pdq_hashes, migrations.RunPython.noop, elidable=True),
    ]
