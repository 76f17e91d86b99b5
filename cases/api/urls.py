from rest_framework.routers import SimpleRouter

from cases.api import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet)
router.register("case-memberships", views.CaseMembershipViewSet)
router.register("incidents", views.IncidentViewSet)
router.register("weapon-systems", views.WeaponSystemViewSet)
router.register("sanctions-provisions", views.SanctionsProvisionViewSet)
router.register("entities", views.EntityViewSet)
router.register("tokens", views.ApiTokenViewSet, basename="apitoken")
