/* zipdir.h - the names in a ZIP archive, read from its central directory
 * (PKWARE APPNOTE 4.3.12, 4.3.16) for the attachment rules: which files
 * an archive holds, whether they are encrypted, and what sizes it claims.
 * Nothing is decompressed, so a zip bomb costs what its directory costs.
 * The reader is given the archive's last octets (where the directory and
 * its end record are); a directory that starts before them, or has more
 * than FILTER_ZIP_MAX_ENTRIES entries, is reported as cut. Pure, bounded
 * (O(len)), thread-safe. */
#ifndef PETREL_FILTER_ZIPDIR_H
#define PETREL_FILTER_ZIPDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/span.h"

struct zipdir_entry {
	char name[FILTER_ZIP_NAME_MAX + 1];	/* NULs become '?'; cut */
	bool encrypted;		/* general purpose flag bit 0 */
	uint64_t csize, usize;	/* as claimed (ZIP64 markers: 0xFFFFFFFF) */
};

/* Called for each entry in directory order; return false to stop. */
typedef bool (*zipdir_fn)(const struct zipdir_entry *e, void *arg);

struct zipdir_info {
	uint64_t declared;	/* entries the end record claims */
	uint64_t read;		/* entries read and passed to fn */
	bool cut;		/* more entries than were read */
};

/* tail is the end of an archive (or all of it). 1: a central directory
 * was found and its entries (at most FILTER_ZIP_MAX_ENTRIES) were passed
 * to fn; 0: no end of central directory record: not a ZIP (or not its
 * end). */
int zipdir_read(struct span tail, zipdir_fn fn, void *arg,
		struct zipdir_info *info);

#endif
