"""Where runs are kept: schema, migrations, the write path and the queries.

Light on purpose: importing this package (the engine imports
``legato.storage.records``) loads no SQLAlchemy. The modules split by job:

- ``records``: the plain rows the recorder hands over (the contract);
- ``sqlite``: stdlib connections, bootstrap from ``sqlite_schema.sql``, WAL;
- ``writes``: the SQL of the write path, shared with PostgreSQL;
- ``schema``, ``types``: the tables in SQLAlchemy Core (read side, Alembic);
- ``queries``: reads; ``database``: engines and Alembic commands.
"""
