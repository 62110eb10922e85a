"""Facts of the shipped default area, Warwickshire, that tests check the code against.

The code names no area but the default (:data:`profiler.area.DEFAULT_AREA`); tests may name
the county, its districts and the files shipped for it.
"""

WARWICKSHIRE = "E10000031"
WARWICKSHIRE_DISTRICTS = {
    "E07000218": "North Warwickshire",
    "E07000219": "Nuneaton and Bedworth",
    "E07000220": "Rugby",
    "E07000221": "Stratford-on-Avon",
    "E07000222": "Warwick",
}
