from rest_framework.routers import SimpleRouter

from evidence.api import views

router = SimpleRouter()
router.register("evidence-items", views.EvidenceItemViewSet)
router.register("custody-events", views.CustodyEventViewSet)
router.register("photos", views.PhotoViewSet)
