"""Privileged marks are deliberately not in the administration: the contract lets only the case
lead and deputies, holders of ``review_privileged`` and the privacy officer read them, and an
administrator is none of those by role. They are read on the case's page (``privilege.views``) and
through ``GET /api/v1/cases/{project_id}/privileged``; they are written by Hansken only
(``privilege.services.marks_record``). ``tests/test_admin.py`` checks that nothing of this app is
reachable in the administration."""
