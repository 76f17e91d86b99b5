from rest_framework import permissions

from cases import reference_data


class ReferenceDataEditorOrReadOnly(permissions.BasePermission):
    """Reference data: every signed-in user reads it; only reference data editors change it."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return reference_data.may_edit(request.user)


class CanOpenCases(permissions.IsAuthenticated):
    """Opening a case needs the cases.add_case permission; checked before the body is read."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return view.action != "create" or request.user.has_perm("cases.add_case")
