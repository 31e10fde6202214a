"""The site's date and time formats (``FORMAT_MODULE_PATH``): pages, the admin and the PDF report show a moment one
way, in the lab's time zone (``TIME_ZONE``)."""
