from django.db import migrations, models

# Entries written before the column name their alert in their changes or message; the log is append-only, so its
# trigger is set aside for the one backfill and restored in the same transaction.
BACKFILL = r"""
ALTER TABLE portal_activitylogentry DISABLE TRIGGER portal_activity_log_append_only;
UPDATE portal_activitylogentry SET about_alert_id = (changes -> 'alerts' ->> 'after')::bigint
    WHERE action = 'incidents.alert.linked' AND jsonb_typeof(changes -> 'alerts' -> 'after') = 'number';
UPDATE portal_activitylogentry SET about_alert_id = substring(message FROM '^Created for alert (\d{1,18})\M')::bigint
    WHERE action = 'incidents.incident.created' AND message ~ '^Created for alert \d{1,18}\M';
UPDATE portal_activitylogentry SET about_alert_id = substring(message FROM '^Reopened: alert (\d{1,18})\M')::bigint
    WHERE action = 'incidents.incident.reopened' AND message ~ '^Reopened: alert \d{1,18}\M';
UPDATE portal_activitylogentry SET about_alert_id = substring(message FROM '^Alert (\d{1,18}) moved')::bigint
    WHERE action IN ('incidents.alert.moved_in', 'incidents.alert.moved_out') AND message ~ '^Alert \d{1,18} moved';
ALTER TABLE portal_activitylogentry ENABLE TRIGGER portal_activity_log_append_only;
"""


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_home_cards")]

    operations = [
        migrations.AddField(
            model_name="activitylogentry",
            name="about_alert_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
