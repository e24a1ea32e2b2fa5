"""Where runs are kept: schema, migrations, the write path and the queries.

Light on purpose: importing this package (the engine imports
``legato.storage.records``) loads no SQLAlchemy. The modules split by job:

- ``records``: the plain rows the recorder hands over (the contract);
- ``sqlite``: stdlib connections, bootstrap from ``sqlite_schema.sql``, WAL;
- ``writes``: the SQL of the write path (stdlib sqlite3);
- ``schema``, ``types``: the tables in SQLAlchemy Core (read side, Alembic);
- ``engine``: SQLAlchemy engines for a SQLite file or a PostgreSQL database;
- ``batches``: the write path over SQLAlchemy, on either database;
- ``dialect``: the few SQL spellings that differ between the two;
- ``queries``: reads; ``database``: Alembic commands.
"""
