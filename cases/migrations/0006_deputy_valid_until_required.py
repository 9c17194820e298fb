"""The end date of a deputy period is required from now on (filled for every older period in 0005)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_deputy_history")]

    operations = [
        migrations.AlterField(
            model_name="deputyperiod",
            name="valid_until",
            field=models.DateTimeField(verbose_name="valid until"),
        ),
    ]
