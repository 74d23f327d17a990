from django.db import migrations

# The activity log is an audit trail: refuse UPDATE and DELETE for every writer, not only the Django model.
# TRUNCATE (used by test database flushes) does not fire row triggers.
FORWARD = """
CREATE FUNCTION portal_activity_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the activity log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER portal_activity_log_append_only
    BEFORE UPDATE OR DELETE ON portal_activitylogentry
    FOR EACH ROW EXECUTE FUNCTION portal_activity_log_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS portal_activity_log_append_only ON portal_activitylogentry;
DROP FUNCTION IF EXISTS portal_activity_log_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
