"""
The Permissions & roles section: roles and their assignments, device groups, the Home cards matrix (for holders of
`permissions.manage_roles`) and API tokens (everyone's own; a role manager's, everyone's).

Pages post plain forms and redirect back with a message; a form with errors answers 422 with the form and its
messages. Every write goes through a service, which records it in the activity log.
"""
