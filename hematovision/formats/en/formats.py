"""English formats over Django's: "1 Dec 2026, 18:05 CET", unambiguous in every country (unlike 01/12/2026),
for every page, the admin and the PDF report alike. Formats not named here are Django's."""

DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = DATE_FORMAT
TIME_FORMAT = "H:i"
