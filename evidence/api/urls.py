from rest_framework.routers import SimpleRouter

from evidence.api import views

router = SimpleRouter()
router.register("evidence-items", views.EvidenceItemViewSet)
router.register("custody-events", views.CustodyEventViewSet)
router.register("photos", views.PhotoViewSet)
router.register("manufacturers", views.ManufacturerViewSet)
router.register("markings", views.MarkingViewSet)
router.register("sources", views.SourceViewSet)
router.register("attributions", views.AttributionViewSet)
router.register("sanctions-reports", views.SanctionsReportViewSet, basename="sanctions-report")
router.register("exports", views.ExportViewSet)
router.register("access-logs", views.AccessLogViewSet)
