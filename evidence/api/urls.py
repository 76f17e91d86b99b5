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
router.register("components", views.ComponentViewSet)
# /cases/{id}/dossiers/, verify/, components/: beside the cases' own routes (basename "case": the route names
# are case-dossiers, case-verify, case-components…, and the API root still links "cases" to the case list).
router.register("cases", views.CaseEvidenceViewSet, basename="case")
router.register("date-readings", views.DateCodeReadingViewSet)
router.register("trace-requests", views.TraceRequestViewSet)
