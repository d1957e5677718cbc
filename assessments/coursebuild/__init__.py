"""The course generator: one module per assignment, built with the helpers in ``cells`` and ``data``."""

from . import a01_kpi_smart, a02_funnel_analysis, a03_icp_targeting, a04_prospecting_outreach, a05_qualification, a06_objection_handling, a07_role_play, a08_call_review, a09_product_negotiation

# Course order; each module has NAME (the assignment folder) and build(skills) -> Built.
ASSIGNMENTS = [
    a01_kpi_smart,
    a02_funnel_analysis,
    a03_icp_targeting,
    a04_prospecting_outreach,
    a05_qualification,
    a06_objection_handling,
    a07_role_play,
    a08_call_review,
    a09_product_negotiation,
]
