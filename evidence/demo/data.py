"""What the demo cases hold: facts from two news reports, and invented values marked [demo].

See docs/modules.md#evidencedemodatapy for which facts come from the reports.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from cases.choices import IdentificationBasis, IncidentKind, Outcome, Role
from evidence.demo.photos import PhotoSpec, Text

DEMO = "[demo]"
PASSWORD = "attest-demo-dev"  # noqa: S105 - published on purpose; load_demo refuses to run unless DEBUG
SEED = "attest-demo-2024"
KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
FIRST_LAUNCH, LAST_LAUNCH = dt.date(2023, 12, 30), dt.date(2024, 2, 27)
TOTAL_KILLED, TOTAL_WOUNDED = 24, 115
DEBRIS_EXAMINED = 21
DEBRIS_REGIONS = ("Kyiv", "Kharkiv", "Poltava", "Donetsk", "Kirovohrad")
LAUNCH_REGIONS = ("Belgorod Oblast", "Voronezh Oblast", "Kursk Oblast")
# Cyrillic by design: a GOST-style circular-connector designation and a quality-control ("OTK") stamp.
CONNECTOR_TYPE = "2РМТ18Б4Ш5В1"  # noqa: RUF001
QC_STAMP = "ОТК"  # noqa: RUF001
# [demo] a round figure for the Hwasong-11's range, used to check that each launch site could reach its target.
MAX_RANGE_KM = 700


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str


USERS = (
    DemoUser("prosecutor", Role.LEAD, "Demo", "Prosecutor"),  # the dossier adds the role, in its language
    DemoUser("investigator", Role.INVESTIGATOR, "Demo", "Investigator"),
    DemoUser("analyst", Role.ANALYST, "Demo", "Analyst"),
    DemoUser("viewer", Role.VIEWER, "Demo", "Viewer"),
)

# --- Places ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    name: str
    region: str
    latitude: float
    longitude: float
    altitude_m: float = 150.0
    country: str = "Ukraine"


# Real towns and cities (centre coordinates); regions as the project names them (oblast, or "Kyiv City").
PLACES = {
    "kyiv": Place("Kyiv", "Kyiv City", 50.4501, 30.5234, 179),
    "bila-tserkva": Place("Bila Tserkva", "Kyiv", 49.7968, 30.1311, 160),
    "brovary": Place("Brovary", "Kyiv", 50.5110, 30.7909, 115),
    "vyshhorod": Place("Vyshhorod", "Kyiv", 50.5846, 30.4898, 110),
    "kharkiv": Place("Kharkiv", "Kharkiv", 49.9935, 36.2304, 152),
    "chuhuiv": Place("Chuhuiv", "Kharkiv", 49.8353, 36.6880, 110),
    "kupiansk": Place("Kupiansk", "Kharkiv", 49.7106, 37.6156, 90),
    "izium": Place("Izium", "Kharkiv", 49.2103, 37.2483, 100),
    "zolochiv": Place("Zolochiv", "Kharkiv", 50.2797, 35.9781, 170),
    "derhachi": Place("Derhachi", "Kharkiv", 50.1094, 36.1211, 160),
    "vovchansk": Place("Vovchansk", "Kharkiv", 50.2906, 36.9411, 130),
    "bohodukhiv": Place("Bohodukhiv", "Kharkiv", 50.1650, 35.5268, 140),
    "poltava": Place("Poltava", "Poltava", 49.5883, 34.5514, 160),
    "kremenchuk": Place("Kremenchuk", "Poltava", 49.0659, 33.4204, 80),
    "myrhorod": Place("Myrhorod", "Poltava", 49.9687, 33.6085, 100),
    "kramatorsk": Place("Kramatorsk", "Donetsk", 48.7389, 37.5848, 100),
    "sloviansk": Place("Sloviansk", "Donetsk", 48.8526, 37.6057, 90),
    "pokrovsk": Place("Pokrovsk", "Donetsk", 48.2826, 37.1760, 190),
    "kostiantynivka": Place("Kostiantynivka", "Donetsk", 48.5277, 37.7069, 100),
    "druzhkivka": Place("Druzhkivka", "Donetsk", 48.6203, 37.5279, 110),
    "bakhmut": Place("Bakhmut", "Donetsk", 48.5956, 38.0003, 120),
    "kropyvnytskyi": Place("Kropyvnytskyi", "Kirovohrad", 48.5079, 32.2623, 160),
    "oleksandriia": Place("Oleksandriia", "Kirovohrad", 48.6696, 33.1159, 110),
    "konotop": Place("Konotop", "Sumy", 51.2403, 33.2026, 140),
    "okhtyrka": Place("Okhtyrka", "Sumy", 50.3103, 34.8988, 120),
    # Where missiles that failed shortly after launch came down, in Russia.
    "belgorod": Place("Belgorod", "Belgorod Oblast", 50.5997, 36.5983, 140, "Russia"),
    "shebekino": Place("Shebekino", "Belgorod Oblast", 50.4000, 36.8833, 150, "Russia"),
    "graivoron": Place("Graivoron", "Belgorod Oblast", 50.4794, 35.6667, 150, "Russia"),
    "borisovka": Place("Borisovka", "Belgorod Oblast", 50.6022, 36.0117, 160, "Russia"),
    "valuyki": Place("Valuyki", "Belgorod Oblast", 50.2111, 38.0997, 120, "Russia"),
    "sudzha": Place("Sudzha", "Kursk Oblast", 51.1919, 35.2708, 170, "Russia"),
    "rossosh": Place("Rossosh", "Voronezh Oblast", 50.1983, 39.5667, 110, "Russia"),
}


@dataclass(frozen=True)
class LaunchSite:
    name: str
    region: str
    latitude: float
    longitude: float


# [demo] The articles name the regions only; these positions are invented, in open country.
LAUNCH_SITES = {
    "BEL-NW": LaunchSite(
        "Belgorod Oblast, field position north-west of Belgorod [demo]", "Belgorod Oblast", 50.69, 36.23
    ),
    "BEL-E": LaunchSite("Belgorod Oblast, field position near Korocha [demo]", "Belgorod Oblast", 50.82, 37.18),
    "KUR": LaunchSite("Kursk Oblast, field position south of Kursk [demo]", "Kursk Oblast", 51.55, 36.10),
    "VOR-N": LaunchSite("Voronezh Oblast, field position near Ostrogozhsk [demo]", "Voronezh Oblast", 50.90, 39.00),
    "VOR-S": LaunchSite("Voronezh Oblast, field position near Rossosh [demo]", "Voronezh Oblast", 50.25, 39.45),
}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# --- The ~50 launches of the main case ---------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    key: str
    when: str  # Kyiv local time, "YYYY-MM-DD HH:MM" [demo]
    kind: str
    site: str  # a LAUNCH_SITES key
    place: str  # a PLACES key: where it struck, fell or was intercepted
    target: str = ""  # a PLACES key: the target inferred from the trajectory (failures)
    killed: int = 0
    wounded: int = 0
    debris: bool = False
    damage: str = ""

    @property
    def occurred_at(self) -> dt.datetime:
        return dt.datetime.strptime(self.when, "%Y-%m-%d %H:%M").replace(tzinfo=KYIV)

    @property
    def aimed_at(self) -> Place:
        return PLACES[self.target or self.place]


def _strike(key, when, site, place, killed, wounded, damage, *, debris=True) -> Launch:
    return Launch(key, when, IncidentKind.MISSILE_STRIKE, site, place, "", killed, wounded, debris, damage)


def _failure(key, when, site, target, fell_near) -> Launch:
    return Launch(key, when, IncidentKind.FAILURE_IN_FLIGHT, site, fell_near, target)


def _interception(key, when, site, place) -> Launch:
    return Launch(key, when, IncidentKind.INTERCEPTION, site, place)


HOUSING = "Multi-storey residential building damaged; windows blown out in neighbouring blocks."
HOUSES = "Private houses destroyed or damaged."
INDUSTRY = "Industrial site hit; workshops and a warehouse damaged."
INFRASTRUCTURE = "Energy infrastructure damaged; power cut to part of the town."
FIELD = "Crater on open ground; outbuildings damaged."

# Debris was examined for these 21 strikes: 3 at Kyiv and its region, 18 in the other four regions.
# [demo] dates after the first, times, places within each region, casualties and damage.
LAUNCHES = (
    _strike("S01", "2023-12-30 05:10", "BEL-NW", "kharkiv", 1, 9, HOUSING),
    _strike("S02", "2024-01-02 06:40", "BEL-NW", "kharkiv", 2, 19, HOUSING),
    _strike("S03", "2024-01-02 07:05", "KUR", "kyiv", 1, 12, HOUSING),
    _strike("S04", "2024-01-06 04:20", "BEL-E", "chuhuiv", 0, 3, HOUSES),
    _strike("S05", "2024-01-08 06:15", "BEL-NW", "kharkiv", 3, 8, INDUSTRY),
    _strike("S06", "2024-01-08 06:20", "KUR", "poltava", 0, 2, INDUSTRY),
    _strike("S07", "2024-01-13 05:55", "KUR", "bila-tserkva", 0, 4, INFRASTRUCTURE),
    _strike("S08", "2024-01-16 05:30", "KUR", "kremenchuk", 1, 6, INDUSTRY),
    _strike("S09", "2024-01-16 21:40", "BEL-E", "kharkiv", 0, 5, HOUSING),
    _strike("S10", "2024-01-18 04:50", "VOR-S", "kostiantynivka", 1, 3, HOUSES),
    _strike("S11", "2024-01-23 05:05", "BEL-NW", "kharkiv", 5, 18, HOUSING),
    _strike("S12", "2024-01-23 05:10", "KUR", "brovary", 0, 2, INDUSTRY),
    _strike("S13", "2024-01-25 03:35", "BEL-NW", "kropyvnytskyi", 1, 4, INDUSTRY),
    _strike("S14", "2024-01-29 06:10", "VOR-N", "kupiansk", 2, 3, HOUSES),
    _strike("S15", "2024-02-02 05:45", "VOR-S", "sloviansk", 1, 2, HOUSING),
    _strike("S16", "2024-02-07 06:30", "VOR-S", "kramatorsk", 2, 5, HOUSING),
    _strike("S17", "2024-02-10 04:15", "BEL-NW", "kharkiv", 0, 4, INFRASTRUCTURE),
    _strike("S18", "2024-02-13 06:25", "BEL-NW", "oleksandriia", 0, 1, INDUSTRY),
    _strike("S19", "2024-02-15 05:15", "KUR", "myrhorod", 0, 0, FIELD),
    _strike("S20", "2024-02-21 05:40", "VOR-N", "izium", 1, 2, HOUSES),
    _strike("S21", "2024-02-27 06:05", "VOR-S", "pokrovsk", 1, 0, INFRASTRUCTURE),
    # [demo] Two impacts where no debris could be collected, identified by trajectory and launch site.
    _strike("N01", "2024-01-18 05:03", "VOR-S", "druzhkivka", 1, 2, HOUSES, debris=False),
    _strike("N02", "2024-02-18 05:30", "BEL-NW", "zolochiv", 1, 1, FIELD, debris=False),
    # [demo] The source does not say whether any were shot down; two interceptions show the kind.
    _interception("I01", "2024-01-02 07:02", "KUR", "kyiv"),
    _interception("I02", "2024-01-13 05:58", "KUR", "vyshhorod"),
    # About half failed in flight and exploded in the air; no debris was recovered.
    _failure("F01", "2023-12-30 05:14", "BEL-NW", "kharkiv", "borisovka"),
    _failure("F02", "2023-12-30 05:21", "BEL-E", "kharkiv", "shebekino"),
    _failure("F03", "2024-01-02 06:31", "KUR", "kyiv", "sudzha"),
    _failure("F04", "2024-01-02 06:44", "BEL-NW", "kharkiv", "derhachi"),
    _failure("F05", "2024-01-02 06:52", "KUR", "kyiv", "konotop"),
    _failure("F06", "2024-01-06 04:26", "BEL-E", "kharkiv", "belgorod"),
    _failure("F07", "2024-01-08 06:09", "BEL-NW", "kharkiv", "zolochiv"),
    _failure("F08", "2024-01-08 06:27", "KUR", "poltava", "okhtyrka"),
    _failure("F09", "2024-01-13 05:47", "KUR", "kyiv", "sudzha"),
    _failure("F10", "2024-01-16 05:22", "KUR", "poltava", "okhtyrka"),
    _failure("F11", "2024-01-16 21:48", "BEL-E", "kharkiv", "vovchansk"),
    _failure("F12", "2024-01-18 04:58", "VOR-S", "kostiantynivka", "rossosh"),
    _failure("F13", "2024-01-23 05:12", "BEL-NW", "kharkiv", "borisovka"),
    _failure("F14", "2024-01-23 05:19", "VOR-N", "kharkiv", "valuyki"),
    _failure("F15", "2024-01-25 03:41", "BEL-NW", "kropyvnytskyi", "graivoron"),
    _failure("F16", "2024-01-29 06:18", "VOR-N", "kupiansk", "valuyki"),
    _failure("F17", "2024-02-02 05:51", "VOR-S", "kramatorsk", "rossosh"),
    _failure("F18", "2024-02-05 05:08", "BEL-E", "kharkiv", "belgorod"),
    _failure("F19", "2024-02-07 06:22", "VOR-S", "kramatorsk", "rossosh"),
    _failure("F20", "2024-02-07 06:37", "BEL-E", "kharkiv", "shebekino"),
    _failure("F21", "2024-02-10 04:09", "BEL-NW", "kharkiv", "derhachi"),
    _failure("F22", "2024-02-13 06:33", "BEL-NW", "kropyvnytskyi", "bohodukhiv"),
    _failure("F23", "2024-02-15 05:24", "KUR", "poltava", "okhtyrka"),
    _failure("F24", "2024-02-18 05:36", "BEL-NW", "kharkiv", "zolochiv"),
    _failure("F25", "2024-02-24 05:02", "BEL-E", "kharkiv", "belgorod"),
)


def _coordinate(value: float, rng: random.Random, jitter: float) -> Decimal:
    return Decimal(f"{value + rng.uniform(-jitter, jitter):.6f}")


def incident_fields(launch: Launch, weapon_system) -> dict:
    """The fields of create_incident for one launch; coordinates jittered by a per-launch seed."""
    rng = random.Random(f"{SEED}/{launch.key}")  # noqa: S311 - demo data, not security
    place, site = PLACES[launch.place], LAUNCH_SITES[launch.site]
    invented = (
        f"{DEMO} Exact time, coordinates, casualties and damage are invented; the sources give no per-launch detail."
    )
    if launch.kind == IncidentKind.FAILURE_IN_FLIGHT:
        target = PLACES[launch.target]
        outcome, damage = Outcome.FAILED_IN_FLIGHT, ""
        basis = [IdentificationBasis.TRAJECTORY, IdentificationBasis.SPEED, IdentificationBasis.LAUNCH_SITE]
        if rng.random() < 0.3:
            basis.remove(IdentificationBasis.SPEED)
        place_name = f"Airburst near {place.name} (aimed at {target.name})"
        text = (
            f"Launched from {site.region} towards {target.name}; lost its programmed trajectory and exploded in "
            f"the air near {place.name}. No debris recovered; identified by trajectory, speed and launch site. "
            f"{invented}"
        )
        jitter = 0.06
    elif launch.kind == IncidentKind.INTERCEPTION:
        outcome, damage = Outcome.INTERCEPTED, "Falling fragments broke windows; no casualties."
        basis = [IdentificationBasis.TRAJECTORY, IdentificationBasis.SPEED]
        place_name = f"Intercepted over {place.name} {DEMO}"
        text = (
            f"{DEMO} Reported shot down over {place.name}. The prosecutor's office did not say whether any of the "
            f"missiles were intercepted: this interception is invented to show the kind. {invented}"
        )
        jitter = 0.03
    else:
        outcome, damage = Outcome.IMPACT, f"{launch.damage} {DEMO}"
        if launch.debris:
            basis = [IdentificationBasis.DEBRIS] + ([IdentificationBasis.LAUNCH_SITE] if rng.random() < 0.5 else [])
            text = f"Strike on {place.name}; debris was collected and examined by the prosecutor's office. {invented}"
        else:
            basis = [IdentificationBasis.TRAJECTORY, IdentificationBasis.LAUNCH_SITE]
            text = (
                f"Strike on {place.name}; no debris could be collected at the impact site {DEMO}, so the missile was "
                f"identified by its trajectory and launch site. {invented}"
            )
        place_name = place.name
        jitter = 0.02
    return {
        "kind": launch.kind,
        "occurred_at": launch.occurred_at,
        "occurred_precision": "exact",
        "place_name": place_name,
        "region": place.region,
        "country": place.country,
        "latitude": _coordinate(place.latitude, rng, jitter),
        "longitude": _coordinate(place.longitude, rng, jitter),
        "weapon_system": weapon_system,
        "launch_site": site.name,
        "launch_latitude": _coordinate(site.latitude, rng, 0.02),
        "launch_longitude": _coordinate(site.longitude, rng, 0.02),
        "outcome": outcome,
        "killed": launch.killed,
        "wounded": launch.wounded,
        "damage": damage,
        "identification_basis": [str(basis_value) for basis_value in basis],
        "description": text,
    }


# --- Exhibits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manufacturer:
    name: str
    country: str  # where its headquarters are
    aliases: tuple[str, ...] = ()
    legal_name: str = ""
    may_be_named: bool = True
    notes: str = ""


# [demo] Fictional makers: the sources say nothing about which companies' parts were found, so every
# maker, its legal entity and its headquarters country is invented.
MANUFACTURERS = {
    "arden": Manufacturer(
        "Arden Semiconductor [demo]", "United States", ("ARDEN",), legal_name="Arden Semiconductor, Inc. [demo]"
    ),
    "vellmar": Manufacturer(
        "Vellmar Elektronik [demo]", "Germany", ("VELLMAR", "VME"), legal_name="Vellmar Elektronik GmbH [demo]"
    ),
    "kestrel": Manufacturer(
        "Kestrel Microsystems [demo]",
        "United Kingdom",
        ("KMS", "KESTREL"),
        legal_name="Kestrel Microsystems Ltd [demo]",
        may_be_named=False,
        notes=f"{DEMO} Answered our trace request on condition that it is not named in published findings.",
    ),
    "norwood": Manufacturer(
        "Norwood Positioning [demo]", "Switzerland", ("NPG",), legal_name="Norwood Positioning AG [demo]"
    ),
    "tallis": Manufacturer(
        "Tallis Motion Devices [demo]", "Japan", ("TMD",), legal_name="Tallis Motion Devices Co., Ltd. [demo]"
    ),
    "sunmark": Manufacturer(
        "Sunmark Electronics [demo]",
        "China",
        ("SUNMARK", "SM"),
        legal_name="Shenzhen Sunmark Electronics Co., Ltd. [demo]",
    ),
}
MANUFACTURER_NOTES = f"{DEMO} A fictional manufacturer invented for the demo data; not a real company."


@dataclass(frozen=True)
class Mark:
    """A marking to record: the text drawn on a photo (its label gives the region) as transcribed."""

    photo: str
    label: str
    transcription: str
    marking_type: str
    confidence: str = "confirmed"
    manufacturer: str = ""  # a MANUFACTURERS key
    part_number: str = ""
    verify: bool = False  # verified by a second person (four eyes)


@dataclass(frozen=True)
class Shot:
    spec: PhotoSpec
    minutes_after: int  # after the item's recovery
    notes: str = ""


@dataclass(frozen=True)
class Part:
    """A row of the component table: one physical part of an exhibit, with the marks read off it and the
    date code read (by the analyst; verified by the investigator unless `verify` is off)."""

    designator: str
    function: str  # a ComponentFunction value
    marks: tuple[str, ...]  # labels of the exhibit's marks that are on this part
    manufacturer: str = ""  # a MANUFACTURERS key
    part_number: str = ""
    as_marked: str = ""  # the maker's name or logo as it appears on the part
    date_mark: str = ""  # the label of the mark carrying its date code
    rule: str = ""  # the date-code rule; blank: every rule that reads the code (an ambiguous code keeps all)
    verify: bool = True
    lot_code: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Component:
    key: str
    title: str
    description: str
    photos: tuple[Shot, ...]
    marks: tuple[Mark, ...]
    manufacturer: str = ""
    part_number: str = ""
    country_of_origin: str = ""
    condition: str = ""
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Debris:
    key: str
    launch: str  # the Launch key it comes from
    title: str
    description: str
    condition: str
    spot: str  # where at the place it was found
    hours_after: float  # recovered this long after the strike
    photos: tuple[Shot, ...]
    findings: str
    components: tuple[Component, ...] = field(default=())
    marks: tuple[Mark, ...] = ()  # markings read off the debris itself
    seal: int = 0
    recovered_at: dt.datetime | None = None  # when not `hours_after` the launch
    recovered_by: str = ""  # when not the police explosives unit of the place


LAB = Place("State forensic laboratory, Kyiv [demo]", "Kyiv City", 50.4417, 30.4906, 175)
LAB_CUSTODIAN = "State forensic laboratory, Kyiv"
EXAMINER = "Forensic expert, explosives and materials section [demo]"


def _photo(name: str, size: tuple[int, int], surface: str, *texts: Text, orientation: int = 1) -> PhotoSpec:
    seed = zlib.crc32(name.encode())
    return PhotoSpec(name=name, size=size, surface=surface, texts=texts, orientation=orientation, seed=seed)


# [demo] The rest of the guidance-section circuit board found in the cable duct of the Kharkiv fragment:
# eight parts, each with a part number and a four-digit year-week (YYWW) date code. U5's reading waits
# for its second reader, so it is carried but does not count towards the earliest assembly date.
BOARD_CHIPS = (
    # designator, function, maker, part number, date code, column, row, verified
    ("U2", "guidance", "kestrel", "KMS-IMU9", "2340", 0, 0, True),  # inertial measurement unit
    ("U3", "guidance", "norwood", "NPG-M8T", "2319", 1, 0, True),  # GNSS receiver module
    ("U4", "power", "sunmark", "SM-DC05", "2248", 2, 0, True),  # DC-DC converter
    ("U5", "power", "sunmark", "SM-DC05", "2251", 3, 0, False),  # DC-DC converter
    ("U6", "servo", "tallis", "TMD-SV2", "2244", 0, 1, True),  # servo driver, fin actuator 1
    ("U7", "servo", "tallis", "TMD-SV2", "2330", 1, 1, True),  # servo driver, fin actuator 2
    ("U8", "communication", "sunmark", "SM-CAN1", "2236", 2, 1, True),  # CAN bus transceiver
    ("U9", "processing", "arden", "ARD25Q64", "2315", 3, 1, True),  # flash memory
)
_COLUMNS, _ROWS = (0.14, 0.38, 0.62, 0.86), (0.24, 0.64)
BOARD = Component(
    "board",
    "Guidance-section circuit board, remaining part",
    f"{DEMO} The larger part of the circuit board found in the cable duct, about 18 by 11 cm: an inertial "
    "measurement unit, a GNSS receiver module, two DC-DC converters, two servo drivers, a CAN bus transceiver "
    "and a flash memory, each marked with a part number and a date code.",
    (
        Shot(
            _photo(
                "EX-board-top.jpg",
                (2400, 1600),
                "board",
                *(
                    text
                    for designator, _function, _maker, part, code, column, row, _verified in BOARD_CHIPS
                    for text in (
                        Text(
                            designator.lower(),
                            part,
                            font="mono",
                            size=56,
                            at=(_COLUMNS[column], _ROWS[row]),
                            style="etch",
                            chip=True,
                        ),
                        Text(
                            f"{designator.lower()}-date",
                            code,
                            font="mono",
                            size=52,
                            at=(_COLUMNS[column], _ROWS[row] + 0.1),
                            style="etch",
                        ),
                    )
                ),
            ),
            50,
            "Board, component side, laboratory.",
        ),
    ),
    tuple(
        mark
        for designator, _function, maker, part, code, _column, _row, _verified in BOARD_CHIPS
        for mark in (
            Mark("EX-board-top.jpg", designator.lower(), part, "part_number", manufacturer=maker, part_number=part),
            Mark("EX-board-top.jpg", f"{designator.lower()}-date", code, "date_code"),
        )
    ),
    condition="Board cracked across one corner; all eight parts in place.",
    parts=tuple(
        Part(
            designator,
            function,
            (designator.lower(), f"{designator.lower()}-date"),
            manufacturer=maker,
            part_number=part,
            as_marked=MANUFACTURERS[maker].aliases[0],
            date_mark=f"{designator.lower()}-date",
            rule="YYWW",
            verify=verified,
        )
        for designator, function, maker, part, _code, _column, _row, verified in BOARD_CHIPS
    ),
)


@dataclass(frozen=True)
class Answer:
    received_on: dt.date
    summary: str
    distributor_name: str
    distributor_country: str
    file_name: str
    text: str


@dataclass(frozen=True)
class Trace:
    """A trace request to the maker of some parts ("component key/designator"), sent, and perhaps answered."""

    parts: tuple[str, ...]
    manufacturer: str  # a MANUFACTURERS key
    sent_on: dt.date
    channel: str
    context: str
    answer: Answer | None = None


TRACE_CONTEXT = (
    f"{DEMO} A ballistic missile that struck a residential area of Kharkiv on 2 January 2024 has been identified as "
    "a Hwasong-11 (KN-23) made in the DPRK. Parts bearing your company's markings were recovered from its debris. "
    "We ask you to tell us, from the part numbers and date codes, to whom these parts were sold or shipped."
)
TRACES = (
    Trace(
        ("board/U2",),
        "kestrel",
        dt.date(2024, 3, 11),
        "email",
        TRACE_CONTEXT,
        Answer(
            dt.date(2024, 4, 3),
            f"{DEMO} The maker says the IMU lot with date code 2340 was shipped in November 2023 to an authorised "
            "distributor, which resold it; it has stopped supplying that distributor and asks not to be named.",
            "Harbour Crest Trading Co., Ltd [demo]",
            "Hong Kong [demo]",
            "kestrel-answer-2024-04-03.txt",
            "[demo] Invented answer for the Attest demo data. Date code 2340, part KMS-IMU9: shipped November 2023 "
            "to Harbour Crest Trading Co., Ltd, Hong Kong, an authorised distributor at the time.\n",
        ),
    ),
    Trace(("board/U3",), "norwood", dt.date(2024, 3, 18), "post", TRACE_CONTEXT),
)


DEBRIS = (
    Debris(
        "kharkiv-0102",
        "S02",
        "Rocket motor casing fragment, Kharkiv, 2 January 2024",
        f"{DEMO} Curved steel fragment of the motor section, about 60 by 40 cm, heat-discoloured, with a riveted "
        "data plate and the remains of a cable duct. A circuit board was wedged inside the duct.",
        "Deformed by the blast; paint burnt off; one edge torn.",
        "courtyard of a residential block",
        3.5,
        (
            Shot(
                _photo(
                    "EX-kharkiv-0102-overview.jpg",
                    (2400, 1600),
                    "dark-steel",
                    Text("stencil", "11-17", font="bold", size=120, at=(0.32, 0.38), angle=4, style="stencil"),
                ),
                10,
                "Overview at the recovery site.",
            ),
            Shot(
                _photo(
                    "EX-kharkiv-0102-duct.jpg",
                    (2000, 1500),
                    "steel",
                    Text("lot", "L-0417", font="mono", size=90, at=(0.6, 0.55), angle=-2),
                    orientation=6,
                ),
                14,
                "Cable duct with the board inside; camera held upright.",
            ),
        ),
        f"{DEMO} The fragment is consistent with the motor section of a Hwasong-11 (KN-23) ballistic missile. "
        "The data plate and a circuit-board part were removed for separate examination.",
        (
            Component(
                "plate",
                "Data plate with a Korean-script stamp",
                f"{DEMO} Steel plate, 120 by 60 mm, riveted to the motor casing; stamped with a Juche-calendar year "
                "and a product number in Korean.",
                (
                    Shot(
                        _photo(
                            "EX-plate-closeup.jpg",
                            (2000, 1500),
                            "aluminium",
                            Text(
                                "juche", "주체112", font="hangul-bold", size=170, at=(0.5, 0.44), angle=-3, plate=True
                            ),
                            Text("serial", "제품번호 1127", font="hangul", size=90, at=(0.5, 0.64)),
                        ),
                        20,
                        "Close-up in the laboratory.",
                    ),
                    Shot(
                        _photo(
                            "EX-plate-angle.jpg",
                            (1800, 1350),
                            "aluminium",
                            Text("juche", "주체112", font="hangul-bold", size=140, at=(0.45, 0.5), angle=6, plate=True),
                            orientation=3,
                        ),
                        25,
                        "Raking light; camera held upside down.",
                    ),
                ),
                (
                    Mark("EX-plate-closeup.jpg", "juche", "주체112", "date_code", verify=True),
                    Mark("EX-plate-closeup.jpg", "serial", "제품번호 1127", "serial_number", "probable"),
                ),
                country_of_origin="DPRK",
                condition="Intact; rivet holes torn.",
                parts=(
                    Part(
                        "data plate",
                        "structure",
                        ("juche", "serial"),
                        date_mark="juche",
                        rule="JUCHE",
                        notes=f"{DEMO} The year is stamped in the DPRK's Juche calendar (Juche 1 = 1912).",
                    ),
                ),
            ),
            Component(
                "ic",
                "Integrated circuit from the guidance-section circuit board",
                f"{DEMO} 28-pin integrated circuit on a fragment of circuit board found in the cable duct; the "
                "package carries a part number, a maker's name and a four-digit date code.",
                (
                    Shot(
                        _photo(
                            "EX-ic-top.jpg",
                            (2400, 1600),
                            "board",
                            Text("maker", "ARDEN", font="bold", size=70, at=(0.5, 0.36), style="etch"),
                            Text("part", "ARD7405QF", font="mono", size=110, at=(0.5, 0.47), style="etch", chip=True),
                            Text("date", "2312", font="mono", size=100, at=(0.5, 0.6), style="etch"),
                        ),
                        40,
                        "Package top, laboratory.",
                    ),
                    Shot(
                        _photo(
                            "EX-ic-board.jpg",
                            (1600, 1200),
                            "board",
                            Text("part", "ARD7405QF", font="mono", size=80, at=(0.4, 0.45), style="etch", chip=True),
                            orientation=6,
                        ),
                        45,
                        "Board fragment; camera held upright.",
                    ),
                ),
                (
                    Mark(
                        "EX-ic-top.jpg",
                        "part",
                        "ARD7405QF",
                        "part_number",
                        manufacturer="arden",
                        part_number="ARD7405QF",
                    ),
                    Mark("EX-ic-top.jpg", "date", "2312", "date_code"),
                    Mark("EX-ic-top.jpg", "maker", "ARDEN", "manufacturer", "probable", manufacturer="arden"),
                ),
                manufacturer="arden",
                part_number="ARD7405QF",
                country_of_origin="United States",
                condition="Package intact; two pins bent.",
                parts=(
                    Part(
                        "U1",
                        "processing",
                        ("part", "date", "maker"),
                        manufacturer="arden",
                        part_number="ARD7405QF",
                        as_marked="ARDEN",
                        date_mark="date",
                        notes=f"{DEMO} 2312 reads as week 12 of 2023 or as December 2023; both windows are kept.",
                    ),
                ),
            ),
            BOARD,
        ),
        seal=113,
    ),
    Debris(
        "kyiv-0102",
        "S03",
        "Guidance-section housing fragment, Kyiv, 2 January 2024",
        f"{DEMO} Aluminium housing fragment, about 35 by 25 cm, with a multi-pin connector still attached.",
        "Scorched; connector shell cracked.",
        "roadway next to a residential block",
        4,
        (
            Shot(
                _photo(
                    "EX-kyiv-0102-housing.jpg",
                    (2048, 1536),
                    "aluminium",
                    Text("stencil", "B-22", font="bold", size=110, at=(0.7, 0.3), style="stencil", angle=-5),
                ),
                12,
                "At the recovery site.",
            ),
        ),
        f"{DEMO} Fragment of the guidance-section housing of a Hwasong-11 (KN-23). A connector with Cyrillic "
        "markings was removed for examination.",
        (
            Component(
                "connector",
                "Circular connector with Cyrillic markings",
                f"{DEMO} Circular multi-pin connector; its designation follows the Soviet and Russian GOST "
                "naming of circular connectors, and it carries a quality-control stamp. Country of manufacture "
                "not established.",
                (
                    Shot(
                        _photo(
                            "EX-connector.jpg",
                            (1800, 1200),
                            "painted",
                            Text("type", CONNECTOR_TYPE, font="bold", size=90, at=(0.5, 0.4)),
                            Text(
                                "otk",
                                QC_STAMP,
                                font="bold",
                                size=120,
                                at=(0.3, 0.7),
                                angle=8,
                                style="stencil",
                            ),
                        ),
                        30,
                        "Connector shell, laboratory.",
                    ),
                ),
                (
                    Mark(
                        "EX-connector.jpg",
                        "type",
                        CONNECTOR_TYPE,
                        "part_number",
                        "probable",
                        part_number=CONNECTOR_TYPE,
                    ),
                    Mark("EX-connector.jpg", "otk", QC_STAMP, "inspection_stamp", "possible"),
                ),
                part_number=CONNECTOR_TYPE,
                condition="Shell cracked; pins intact.",
                parts=(
                    Part(
                        "X1",
                        "connector",
                        ("type", "otk"),
                        part_number=CONNECTOR_TYPE,
                        notes=f"{DEMO} Maker not established; the designation follows GOST naming.",
                    ),
                ),
            ),
        ),
        seal=87,
    ),
    Debris(
        "kremenchuk-0116",
        "S08",
        "Nozzle and jet-vane fragment, Kremenchuk, 16 January 2024",
        f"{DEMO} Part of the nozzle assembly with a jet-vane actuator bracket; a power-converter module was "
        "bolted to the bracket.",
        "Heavily burnt; bracket bent.",
        "grounds of an industrial site",
        6,
        (
            Shot(
                _photo(
                    "EX-kremenchuk-nozzle.jpg",
                    (2400, 1600),
                    "dark-steel",
                    Text("stamp", "4-A 17", font="mono", size=100, at=(0.4, 0.6), angle=3),
                ),
                15,
                "At the recovery site.",
            ),
        ),
        f"{DEMO} Nozzle-section fragment of a Hwasong-11 (KN-23); power-converter module removed for examination.",
        (
            Component(
                "converter",
                "DC-DC power-converter module",
                f"{DEMO} Encapsulated power-converter module with a maker's part number and a date code.",
                (
                    Shot(
                        _photo(
                            "EX-converter.jpg",
                            (2000, 1500),
                            "steel",
                            Text("part", "VME-3R3-1A", font="mono", size=100, at=(0.5, 0.42), style="etch", chip=True),
                            Text("date", "2236", font="mono", size=90, at=(0.5, 0.58), style="etch"),
                        ),
                        35,
                        "Module top, laboratory.",
                    ),
                ),
                (
                    Mark(
                        "EX-converter.jpg",
                        "part",
                        "VME-3R3-1A",
                        "part_number",
                        manufacturer="vellmar",
                        part_number="VME-3R3-1A",
                    ),
                    Mark("EX-converter.jpg", "date", "2236", "date_code", "probable"),
                ),
                manufacturer="vellmar",
                part_number="VME-3R3-1A",
                country_of_origin="Germany",
                condition="Potting cracked; terminals intact.",
                parts=(
                    Part(
                        "PS1",
                        "power",
                        ("part", "date"),
                        manufacturer="vellmar",
                        part_number="VME-3R3-1A",
                        as_marked="VME",
                        date_mark="date",
                    ),
                ),
            ),
        ),
        seal=41,
    ),
    Debris(
        "kharkiv-0123",
        "S11",
        "Motor casing fragment with fixing lugs, Kharkiv, 23 January 2024",
        f"{DEMO} Steel fragment with two fixing lugs and a weld seam, about 45 by 30 cm.",
        "Deformed; lugs intact.",
        "street between residential blocks",
        5,
        (
            Shot(
                _photo(
                    "EX-kharkiv-0123-lugs.jpg",
                    (1920, 1440),
                    "steel",
                    Text("stamp", "No 0388", font="mono", size=96, at=(0.55, 0.35), angle=-4),
                ),
                12,
                "At the recovery site.",
            ),
        ),
        f"{DEMO} Motor-section fragment consistent with a Hwasong-11 (KN-23).",
        seal=152,
    ),
    Debris(
        "kropyvnytskyi-0125",
        "S13",
        "Warhead-section casing fragment, Kropyvnytskyi, 25 January 2024",
        f"{DEMO} Thick steel fragment of the warhead section with a painted stencil.",
        "Fragmented edges; stencil partly legible.",
        "industrial site on the edge of the city",
        8,
        (
            Shot(
                _photo(
                    "EX-kropyvnytskyi-warhead.jpg",
                    (2200, 1650),
                    "painted",
                    Text("stencil", "K 23-7", font="bold", size=120, at=(0.45, 0.45), style="stencil", angle=-2),
                ),
                18,
                "At the recovery site.",
            ),
        ),
        f"{DEMO} Warhead-section fragment consistent with a Hwasong-11 (KN-23).",
        seal=29,
    ),
    Debris(
        "kramatorsk-0207",
        "S16",
        "Airframe skin fragment, Kramatorsk, 7 February 2024",
        f"{DEMO} Aluminium airframe skin panel with rivet rows and a painted serial stencil.",
        "Torn; paint blistered.",
        "yard of a private house",
        5.5,
        (
            Shot(
                _photo(
                    "EX-kramatorsk-skin.jpg",
                    (2400, 1800),
                    "aluminium",
                    Text("stencil", "0417", font="bold", size=130, at=(0.35, 0.55), style="stencil", angle=3),
                    orientation=6,
                ),
                11,
                "At the recovery site; camera held upright.",
            ),
        ),
        f"{DEMO} Airframe skin fragment consistent with a Hwasong-11 (KN-23).",
        seal=64,
    ),
)

# --- Sources and attributions of the main case -----------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    key: str
    fields: dict


@dataclass(frozen=True)
class Claim:
    source: str
    subject: str  # "case", "launch:S02", "incident:rail", "item:kharkiv-0102", "component:ic", "marking:plate/juche"
    claim: str
    credibility: int
    stance: str = "supports"


MAIN_SOURCES = (
    SourceSpec(
        "panel",
        {
            "kind": "un_report",
            "title": "Report of the UN Panel of Experts on the DPRK, confirming a Hwasong-11 strike on Kharkiv",
            "publisher": "UN Security Council, Panel of Experts established pursuant to resolution 1874 (2009)",
            "document_reference": "S/2024/215",
            "published_on": dt.date(2024, 4, 25),
            "reliability": "B",
            "notes": f"{DEMO} The seed article gives neither the document symbol nor the date; both are demo values. "
            "The article says the report was submitted days before the Panel's mandate expired.",
        },
    ),
    SourceSpec(
        "prosecutor",
        {
            "kind": "government_statement",
            "title": "Office of the Prosecutor General of Ukraine: written answers on North Korean missiles",
            "publisher": "Office of the Prosecutor General of Ukraine",
            "published_on": dt.date(2024, 4, 29),
            "reliability": "B",
            "notes": f"{DEMO} Date invented. Written answers to questions from Reuters, as reported by Reuters.",
        },
    ),
    SourceSpec(
        "reuters",
        {
            "kind": "news_report",
            "title": "Ukraine examines NKorea missile debris amid fears of Moscow-Pyongyang axis",
            "publisher": "Reuters",
            "author": "Tom Balmforth, David Gauthier-Villars",
            "published_on": dt.date(2024, 4, 30),
            "reliability": "B",
            "notes": f"{DEMO} Publication date invented. Russia's Defence Ministry and the DPRK's UN mission in "
            "Geneva did not answer Reuters' questions.",
        },
    ),
    SourceSpec(
        "laboratory",
        {
            "kind": "laboratory_report",
            "title": "Forensic examination report on debris from the Kharkiv strike of 2 January 2024 [demo]",
            "publisher": LAB_CUSTODIAN,
            "document_reference": "LAB-2024-0117 [demo]",
            "published_on": dt.date(2024, 1, 17),
            "reliability": "A",
            "notes": f"{DEMO} An invented laboratory report, to show markings attributed to an examination.",
        },
    ),
    SourceSpec(
        "denial",
        {
            "kind": "government_statement",
            "title": "DPRK denial of arms supplies to Russia, as reported",
            "publisher": "Government of the DPRK (as reported in the press)",
            "reliability": "F",
            "notes": f"{DEMO} The second seed article reports that North Korea denied sending arms for Russia's war; "
            "it is recorded here against this case to show a contradicting claim.",
        },
    ),
)

MAIN_CLAIMS = (
    Claim(
        "panel",
        "launch:S02",
        "A North Korean-made Hwasong-11 ballistic missile struck Kharkiv, in violation of "
        "UN sanctions on the DPRK; the Panel's first such confirmation. [demo: tied to the 2 January strike]",
        2,
    ),
    Claim(
        "prosecutor",
        "case",
        "Russia launched about 50 North Korean Hwasong-11 (KN-23) missiles at Ukraine between "
        "30 December 2023 and 27 February 2024, from sites including the Belgorod, Voronezh and Kursk regions.",
        2,
    ),
    Claim(
        "prosecutor",
        "case",
        "About half of the missiles lost their programmed trajectory and exploded in the "
        "air; no debris was recovered from those.",
        2,
    ),
    Claim(
        "prosecutor",
        "case",
        "Debris from 21 missiles was examined: three were fired at Kyiv and its region, the "
        "others struck the Kharkiv, Poltava, Donetsk and Kirovohrad regions. The attacks killed 24 people and "
        "wounded 115.",
        2,
    ),
    Claim(
        "prosecutor",
        "launch:S03",
        "Debris was collected from this strike on Kyiv and identified as a "
        "Hwasong-11. [demo: the source does not list strikes one by one]",
        3,
    ),
    Claim(
        "reuters",
        "case",
        "Russia vetoed the annual renewal of the UN Panel of Experts monitoring sanctions on "
        "the DPRK; China abstained.",
        2,
    ),
    Claim(
        "reuters",
        "case",
        "The number of launches identified tallies with intelligence that the DPRK delivered "
        "about 50 ballistic missiles to Russia.",
        3,
    ),
    Claim(
        "laboratory",
        "marking:plate/juche",
        "The data plate is stamped 주체112: year 112 of the Juche calendar, i.e. 2023. [demo]",
        1,
    ),
    Claim(
        "laboratory",
        "component:ic",
        "The integrated circuit is an ARD7405QF with date code 2312 (ISO week 12 of 2023). [demo]",
        2,
    ),
    Claim("denial", "case", "The DPRK denies supplying arms to Russia for its war against Ukraine.", 5, "contradicts"),
)

MAIN_CASE = {
    "reference": "PGO-2024-0101",
    "title": "North Korean Hwasong-11 (KN-23) missiles launched by Russia at Ukraine, Dec 2023 to Feb 2024",
    "opened_on": dt.date(2024, 1, 3),
    "status": "under_investigation",
    "summary": (
        "About 50 North Korean Hwasong-11 (KN-23) short-range ballistic missiles were launched by Russia at "
        "Ukraine between 30 December 2023 and 27 February 2024, from launch areas that include Russia's Belgorod, "
        "Voronezh and Kursk regions. About half lost their programmed trajectory and exploded in the air, so no "
        "debris could be recovered; those missiles were identified by their trajectory, speed and launch site. "
        "Debris from 21 missiles was collected and examined: three were fired at Kyiv and its region, the rest "
        "struck the Kharkiv, Poltava, Donetsk and Kirovohrad regions. The attacks killed 24 people, wounded 115 "
        "and damaged homes and industrial sites. The UN Panel of Experts on the DPRK confirmed, shortly before its "
        "mandate ran out, that a Hwasong-11 had struck Kharkiv; Russia vetoed the renewal of the Panel's mandate "
        "and China abstained. Still under investigation: whether the DPRK sent instructors to observe the "
        "launches.\n\n"
        "[demo] Demonstration data loaded by `manage.py load_demo` from two news reports. Invented for the demo: "
        "the exact date, time and coordinates of each launch and launch site; the split of the 24 killed and 115 "
        "wounded between strikes; the two interceptions and the two strikes without debris; every exhibit, "
        "custodian seal and examination; the components, their markings, part numbers and (fictional) "
        "manufacturers; the laboratory report; source dates, the UN document symbol, grades and attributions; "
        "and the photos, which are generated images."
    ),
    "provisions": (
        ("Resolution 1718 (2006)", "8(b)"),
        ("Resolution 1718 (2006)", "8(c)"),
        ("Resolution 1874 (2009)", "9"),
        ("Resolution 2270 (2016)", "6"),
    ),
}

# --- The second case: rockets and shipments ---------------------------------------------------------

SHIPMENT_CASE = {
    "reference": "PGO-2024-0102",
    "title": "North Korean artillery rockets and arms shipments to Russian forces (Wagner group)",
    "opened_on": dt.date(2024, 3, 1),
    "status": "open",
    "summary": (
        "The White House accused North Korea of supplying missiles and rockets to the Russian mercenary group "
        "Wagner, in violation of UN Security Council resolutions, and said it would raise the issue with Moscow "
        "and consider further sanctions. The United States released satellite imagery of Russian railcars leaving "
        "a North Korean port and returning to Russia with containers of weapons, without offering proof of where "
        "the shipment came from. North Korea denied sending arms for Russia's war. Separately, Ukrainian Grad "
        "crews near Bakhmut showed journalists North Korean-made rockets they were firing; an expert suggested "
        "they may have been captured from Russian forces.\n\n"
        "[demo] Demonstration data loaded by `manage.py load_demo`. Invented for the demo: the dates and places "
        "of both incidents, the exhibit, its markings and photo, source dates and grades, and the attributions. "
        "Entities linked to the case (where the OFAC SDN list has been imported) are named for the demo only; "
        "the sources do not name them."
    ),
    "provisions": (
        ("Resolution 1718 (2006)", "8(b)"),
        ("Resolution 1874 (2009)", "9"),
        ("Resolution 2270 (2016)", "6"),
    ),
    # Real DPRK entities from the OFAC SDN list (ent_num), linked when import_sdn has loaded them.
    "sdn_entities": ("9345", "22284"),  # Korea Mining Development Trading Corporation; Korean People's Army
}

SHIPMENT_INCIDENTS = (
    {
        "key": "rail",
        "kind": IncidentKind.SHIPMENT,
        "occurred_at": dt.datetime(2022, 11, 1, 12, 0, tzinfo=KYIV),
        "occurred_precision": "month",
        "place_name": "Rail link from a North Korean port to Russia [demo: port not named in the source]",
        "region": "",
        "country": "DPRK",
        "latitude": Decimal("42.246500"),
        "longitude": Decimal("130.281600"),
        "outcome": Outcome.DELIVERED,
        "identification_basis": [IdentificationBasis.INTELLIGENCE],
        "description": f"Russian railcars were seen on US-released satellite imagery leaving a North Korean port "
        f"and returning to Russia with containers of weapons, said to be for the Wagner group. {DEMO} The month "
        "and the coordinates (near Rajin) are invented.",
        "weapon": "122 mm rocket (Grad type)",
    },
    {
        "key": "bakhmut",
        "kind": IncidentKind.OTHER,
        "occurred_at": dt.datetime(2022, 12, 16, 12, 0, tzinfo=KYIV),
        "occurred_precision": "day",
        "place_name": "Near Bakhmut",
        "region": "Donetsk",
        "country": "Ukraine",
        "latitude": Decimal("48.601000"),
        "longitude": Decimal("37.962000"),
        "outcome": Outcome.UNKNOWN,
        "identification_basis": [IdentificationBasis.OTHER],
        "description": "Ukrainian soldiers operating Grad multiple rocket launchers near Bakhmut showed reporters "
        "the North Korean-made rockets they were firing, which they described as unpredictable; an expert "
        f"suggested they may have been captured from Russian forces. {DEMO} Date and coordinates invented.",
        "weapon": "122 mm rocket (Grad type)",
    },
)

ROCKET = Debris(
    "rocket-bakhmut",
    "bakhmut",
    "Expended 122 mm rocket motor tube with Korean markings [demo]",
    f"{DEMO} Motor tube of a 122 mm rocket, about 1.9 m long, handed over by a Ukrainian Grad crew; stencilled "
    "with a Juche-calendar month and a lot number.",
    "Burnt inside; stencils legible.",
    "handover point near Kostiantynivka",
    0,
    (
        Shot(
            _photo(
                "EX-rocket-tube.jpg",
                (2400, 1600),
                "painted",
                Text("juche", "주체111.3", font="hangul-bold", size=120, at=(0.4, 0.42), style="stencil"),
                Text("lot", "LOT 17", font="bold", size=90, at=(0.66, 0.62), style="stencil"),
            ),
            20,
            "At the handover point.",
        ),
    ),
    f"{DEMO} A 122 mm rocket motor tube of a North Korean-made Grad-type rocket.",
    marks=(
        Mark("EX-rocket-tube.jpg", "juche", "주체111.3", "date_code", "probable"),
        Mark("EX-rocket-tube.jpg", "lot", "LOT 17", "lot", "probable"),
    ),
    seal=5,
    recovered_at=dt.datetime(2023, 1, 12, 11, 0, tzinfo=KYIV),
    recovered_by="Ukrainian Grad crew, handed over to the National Police [demo]",
)
ROCKET_PLACE = PLACES["kostiantynivka"]

SHIPMENT_SOURCES = (
    SourceSpec(
        "white-house",
        {
            "kind": "government_statement",
            "title": "White House remarks on North Korean arms deliveries to the Wagner group",
            "publisher": "The White House",
            "author": "John Kirby",
            "published_on": dt.date(2022, 12, 22),
            "reliability": "B",
            "notes": f"{DEMO} Day inferred from the article (a Thursday, some 300 days into the war); as reported.",
        },
    ),
    SourceSpec(
        "imagery",
        {
            "kind": "satellite_imagery",
            "title": "US-released satellite imagery of Russian railcars at a North Korean port",
            "publisher": "US Government",
            "reliability": "C",
            "notes": f"{DEMO} Grade chosen for the demo: the US has not offered proof that the shipment came from the "
            "DPRK. Date not given in the seed article.",
        },
    ),
    SourceSpec(
        "ft",
        {
            "kind": "news_report",
            "title": "Ukrainian Grad crews near Bakhmut firing North Korean-made rockets (as reported)",
            "publisher": "Financial Times",
            "reliability": "B",
            "notes": f"{DEMO} Date not given in the seed article.",
        },
    ),
    SourceSpec(
        "denial",
        {
            "kind": "government_statement",
            "title": "DPRK denial of arms supplies to Russia, as reported",
            "publisher": "Government of the DPRK (as reported in the press)",
            "reliability": "F",
            "notes": f"{DEMO} Grade chosen for the demo.",
        },
    ),
)

SHIPMENT_CLAIMS = (
    Claim(
        "white-house",
        "incident:rail",
        "North Korea shipped arms, including missiles and rockets, to the Wagner "
        "group in direct violation of UN Security Council resolutions.",
        3,
    ),
    Claim(
        "imagery",
        "incident:rail",
        "Russian railcars left a North Korean port and returned to Russia with containers of weapons.",
        3,
    ),
    Claim(
        "denial", "incident:rail", "North Korea denies having sent arms for Russia's war in Ukraine.", 5, "contradicts"
    ),
    Claim(
        "ft",
        "incident:bakhmut",
        "Ukrainian Grad crews near Bakhmut are firing North Korean-made rockets, possibly "
        "captured from Russian forces.",
        2,
    ),
    Claim(
        "white-house",
        "case",
        "North Korea is supplying Russia because Moscow is running short of weapons and "
        "Western export controls deny it modern technology.",
        3,
    ),
)


# --- Self-check ----------------------------------------------------------------------------------------


def check() -> None:
    """The invented details must agree with the reported facts; raises AssertionError if they do not."""
    strikes = [launch for launch in LAUNCHES if launch.kind == IncidentKind.MISSILE_STRIKE]
    debris = [launch for launch in strikes if launch.debris]
    failures = [launch for launch in LAUNCHES if launch.kind == IncidentKind.FAILURE_IN_FLIGHT]
    problems = []
    if len({launch.key for launch in LAUNCHES}) != len(LAUNCHES) or not 45 <= len(LAUNCHES) <= 55:
        problems.append("about 50 launches, each with its own key")
    if len(debris) != DEBRIS_EXAMINED:
        problems.append(f"{DEBRIS_EXAMINED} launches with debris")
    regions = [PLACES[launch.place].region.removesuffix(" City") for launch in debris]
    if regions.count("Kyiv") != 3:
        problems.append("three debris strikes at Kyiv and its region")
    if set(regions) != set(DEBRIS_REGIONS):
        problems.append(f"debris strikes in exactly {DEBRIS_REGIONS}")
    if not 0.4 <= len(failures) / len(LAUNCHES) <= 0.6:
        problems.append("about half failed in flight")
    if sum(launch.killed for launch in LAUNCHES) != TOTAL_KILLED:
        problems.append(f"{TOTAL_KILLED} killed in all")
    if sum(launch.wounded for launch in LAUNCHES) != TOTAL_WOUNDED:
        problems.append(f"{TOTAL_WOUNDED} wounded in all")
    dates = sorted(launch.occurred_at.date() for launch in LAUNCHES)
    if (dates[0], dates[-1]) != (FIRST_LAUNCH, LAST_LAUNCH):
        problems.append(f"launches from {FIRST_LAUNCH} to {LAST_LAUNCH}")
    if {site.region for site in LAUNCH_SITES.values()} != set(LAUNCH_REGIONS):
        problems.append(f"launch sites in {LAUNCH_REGIONS}")
    for launch in LAUNCHES:
        site, aim = LAUNCH_SITES[launch.site], launch.aimed_at
        if distance_km(site.latitude, site.longitude, aim.latitude, aim.longitude) > MAX_RANGE_KM:
            problems.append(f"{launch.key}: target out of range of {site.name}")
    for place in PLACES.values():
        if place.country == "Ukraine" and not (44.3 <= place.latitude <= 52.4 and 22.1 <= place.longitude <= 40.3):
            problems.append(f"{place.name} lies outside Ukraine")
    assert not problems, "demo data inconsistent: " + "; ".join(problems)
