"""The site: Starlette and Jinja2 over the archive. Build it with
:func:`poddarkiv.site.app.create_app`."""
