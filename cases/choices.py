"""Choices of the cases app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Role(models.TextChoices):
    """Case roles, each holding every right of the ones before it."""

    VIEWER = "viewer", _("Viewer")
    ANALYST = "analyst", _("Analyst")
    INVESTIGATOR = "investigator", _("Investigator")
    LEAD = "lead", _("Lead")


ROLE_RANK = {Role.VIEWER: 1, Role.ANALYST: 2, Role.INVESTIGATOR: 3, Role.LEAD: 4}


class IncidentKind(models.TextChoices):
    MISSILE_STRIKE = "missile_strike", _("Missile strike")
    ROCKET_STRIKE = "rocket_strike", _("Rocket strike")
    LAUNCH = "launch", _("Launch")
    FAILURE_IN_FLIGHT = "failure_in_flight", _("Failure in flight")
    INTERCEPTION = "interception", _("Interception")
    SHIPMENT = "shipment", _("Shipment")
    SEIZURE = "seizure", _("Seizure")
    OTHER = "other", _("Other")


# Kinds that are a launch of a weapon, for launch statistics.
LAUNCH_KINDS = (
    IncidentKind.MISSILE_STRIKE,
    IncidentKind.ROCKET_STRIKE,
    IncidentKind.LAUNCH,
    IncidentKind.FAILURE_IN_FLIGHT,
    IncidentKind.INTERCEPTION,
)


class Outcome(models.TextChoices):
    IMPACT = "impact", _("Impact")
    FAILED_IN_FLIGHT = "failed_in_flight", _("Failed in flight")
    INTERCEPTED = "intercepted", _("Intercepted")
    DELIVERED = "delivered", _("Delivered")
    SEIZED = "seized", _("Seized")
    UNKNOWN = "unknown", _("Unknown")


class DatePrecision(models.TextChoices):
    EXACT = "exact", _("Exact")
    DAY = "day", _("Day")
    MONTH = "month", _("Month")


class IdentificationBasis(models.TextChoices):
    DEBRIS = "debris", _("Debris")
    TRAJECTORY = "trajectory", _("Trajectory")
    SPEED = "speed", _("Speed")
    LAUNCH_SITE = "launch_site", _("Launch site")
    INTELLIGENCE = "intelligence", _("Intelligence")
    OTHER = "other", _("Other")


# Bases that identify a weapon without its debris.
FLIGHT_BASES = (IdentificationBasis.TRAJECTORY, IdentificationBasis.SPEED, IdentificationBasis.LAUNCH_SITE)


class WeaponCategory(models.TextChoices):
    BALLISTIC_MISSILE = "ballistic_missile", _("Ballistic missile")
    CRUISE_MISSILE = "cruise_missile", _("Cruise missile")
    ROCKET = "rocket", _("Artillery rocket")
    ARTILLERY_SHELL = "artillery_shell", _("Artillery shell")
    UAV = "uav", _("Unmanned aerial vehicle")
    OTHER = "other", _("Other")


class EntityKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")
    VESSEL = "vessel", _("Vessel")
    AIRCRAFT = "aircraft", _("Aircraft")


class ReferenceAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    DOWNLOAD = "download", _("Downloaded")
    EXPORT = "export", _("Export requested")
    DENIED = "denied", _("Refused")
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    TOTP_FAILED = "totp_failed", _("Two-factor code refused")
    TOKEN_REFUSED = "token_refused", _("API token refused")
    SIGN_OUT = "sign_out", _("Signed out")
