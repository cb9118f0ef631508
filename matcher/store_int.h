/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* store_int.h — what the trip store's engines share inside matcher/: the schema on PostgreSQL (schema_pg.c), the
   same as SQLite's at CV_STORE_SCHEMA_VERSION. matcher/ only. */
#ifndef CV_MATCHER_STORE_INT_H
#define CV_MATCHER_STORE_INT_H

/* The whole schema at CV_STORE_SCHEMA_VERSION, as statements for cv_db_exec on an empty PostgreSQL database. */
extern const char *const cv_pg_schema;

#endif
