"""``spm demo``: a generated organisation (roster, latent skills, KPIs, submissions) run through the
whole loop with the same code paths as a user's files."""
