"""REST API plumbing shared by every app: authentication, errors, paging, base viewsets."""
