"""The end date of a deputy period is required from now on (filled for every older period in 0004)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_deputy_history")]

    operations = [
        migrations.AlterField(
            model_name="deputyperiod",
            name="valid_until",
            field=models.DateTimeField(verbose_name="valid until"),
        ),
    ]
