"""Every page of one sample, as (method, URL name, whether it names a cell too): the access tests walk them all,
so a new sample page is added here once."""

SAMPLE_PAGES = [
    ("get", "labs:sample_detail", False),
    ("get", "labs:sample_review", False),
    ("get", "labs:sample_csv", False),
    ("get", "labs:sample_pdf", False),
    ("get", "labs:sample_dataset", False),
    ("post", "labs:sample_upload", False),
    ("post", "labs:sample_verify", False),
    ("post", "labs:sample_unverify", False),
    ("post", "labs:prediction_review", True),
]
# What the posts send: enough to pass every form, so only access can refuse them.
POST_DATA = {"label": "MONOCYTE", "reason": "x"}
