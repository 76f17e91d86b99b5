"""Seed reference data: weapon systems and UN DPRK sanctions provisions. Staff can edit both."""

import datetime

from django.db import migrations

WEAPON_SYSTEMS = [
    {
        "name": "Hwasong-11",
        "aliases": ["KN-23", "Hwasong-11Ga", "Hwasong-11A", "화성-11가"],
        "category": "ballistic_missile",
        "country_of_origin": "DPRK",
        "notes": "Short-range, solid-fuel ballistic missile on a road-mobile launcher.",
    },
    {
        "name": "Hwasong-11Na",
        "aliases": ["KN-24", "Hwasong-11B", "화성-11나"],
        "category": "ballistic_missile",
        "country_of_origin": "DPRK",
        "notes": "",
    },
    {
        "name": "9M723 (Iskander-M)",
        "aliases": ["Iskander-M", "SS-26 Stone"],
        "category": "ballistic_missile",
        "country_of_origin": "Russia",
        "notes": "",
    },
    {
        "name": "122 mm rocket (Grad type)",
        "aliases": ["BM-21 rocket", "9M22U"],
        "category": "rocket",
        "country_of_origin": "",
        "notes": "Copies are made in several countries, the DPRK among them; markings tell them apart.",
    },
    {
        "name": "Kh-101",
        "aliases": ["X-101", "AS-23A Kodiak"],
        "category": "cruise_missile",
        "country_of_origin": "Russia",
        "notes": "",
    },
    {
        "name": "Shahed-136",
        "aliases": ["Geran-2"],
        "category": "uav",
        "country_of_origin": "Iran",
        "notes": "",
    },
]

REGIME = {
    "name": "UN Security Council sanctions on the DPRK",
    "authority": "UN Security Council (Committee established pursuant to resolution 1718 (2006))",
    "established_on": datetime.date(2006, 10, 14),
    "description": "Measures on the Democratic People's Republic of Korea under Chapter VII of the UN Charter.",
}

# Summaries written for Attest; the authoritative texts are the resolutions themselves.
PROVISIONS = [
    {
        "instrument": "Resolution 1718 (2006)",
        "paragraph": "8(a)",
        "adopted_on": datetime.date(2006, 10, 14),
        "text": "All States shall prevent the supply, sale or transfer to the DPRK, directly or indirectly, "
        "of battle tanks, armoured combat vehicles, large-calibre artillery, combat aircraft, attack "
        "helicopters, warships, missiles or missile systems and related materiel including spare parts, "
        "and of items that could contribute to its nuclear, ballistic missile or other WMD programmes.",
    },
    {
        "instrument": "Resolution 1718 (2006)",
        "paragraph": "8(b)",
        "adopted_on": datetime.date(2006, 10, 14),
        "text": "The DPRK shall cease the export of all items covered by paragraph 8(a), and all States "
        "shall prohibit the procurement of such items from the DPRK by their nationals, or using their "
        "flag vessels or aircraft, whether or not originating in the territory of the DPRK.",
    },
    {
        "instrument": "Resolution 1718 (2006)",
        "paragraph": "8(c)",
        "adopted_on": datetime.date(2006, 10, 14),
        "text": "All States shall prevent any transfer to or from the DPRK of technical training, advice, "
        "services or assistance related to the provision, manufacture, maintenance or use of the items "
        "in paragraph 8(a).",
    },
    {
        "instrument": "Resolution 1874 (2009)",
        "paragraph": "9",
        "adopted_on": datetime.date(2009, 6, 12),
        "text": "The measures of paragraph 8(b) of resolution 1718 (2006) also apply to all arms and related "
        "materiel, and to financial transactions, technical training, advice, services or assistance "
        "related to their provision, manufacture, maintenance or use.",
    },
    {
        "instrument": "Resolution 2270 (2016)",
        "paragraph": "6",
        "adopted_on": datetime.date(2016, 3, 2),
        "text": "The measures of paragraph 8(a) of resolution 1718 (2006) also apply to all arms and related "
        "materiel, including small arms and light weapons, and to any item that could directly contribute "
        "to the development of the operational capabilities of the DPRK's armed forces.",
    },
]


def seed(apps, schema_editor):
    WeaponSystem = apps.get_model("cases", "WeaponSystem")
    SanctionsRegime = apps.get_model("cases", "SanctionsRegime")
    SanctionsProvision = apps.get_model("cases", "SanctionsProvision")
    for weapon in WEAPON_SYSTEMS:
        WeaponSystem.objects.get_or_create(name=weapon["name"], defaults=weapon)
    regime, _ = SanctionsRegime.objects.get_or_create(name=REGIME["name"], defaults=REGIME)
    for provision in PROVISIONS:
        SanctionsProvision.objects.get_or_create(
            instrument=provision["instrument"],
            paragraph=provision["paragraph"],
            defaults={**provision, "regime": regime, "authority": "UN Security Council"},
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
