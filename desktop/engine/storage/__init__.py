"""The database: SQLite/SQLCipher or PostgreSQL behind one Store protocol, its schema,
copy, audit and consent tables."""
