"""The pure core: border arithmetic, validation and the Shape alias, errors, enums, attribute
names and the operator table. Imports nothing from nin_mx outside itself, and never MXNet."""
