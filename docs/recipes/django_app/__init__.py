"""A minimal Django project: every request that names a tenant runs inside its tenant's block.

    export BUCKET=my-bucket TENANTS=acme,globex DJANGO_SECRET_KEY=...
    waitress-serve --threads 8 django_app.wsgi:application

``middleware.py`` holds the block; ``aws.py`` the pool; ``views.py`` the calls.
"""
