def post_init_hook(env):
    """Every existing account gets its own portal code (a column default would give
    them all the same one)."""
    env["prepaid.account"].with_context(active_test=False).search(
        [("portal_code", "=", False)]
    )._portal_new_code()
