/* msgsrc.h - messages to score or learn, from the paths an admin gives:
 * a message file, a directory of them (recursively, in name order,
 * skipping names that start with '.' and symbolic links inside it), or
 * an mbox file. A file whose first line is an mbox "From " line is split
 * at every later "From " line that follows an empty line and carries a
 * time (hh:mm:ss, as every mbox writer puts there; a body line "From the
 * desk of" does not split), and the "From " lines are left out, so a
 * single-message file with one (the TREC corpus) is that message.
 * ">From " quoting is left as it is.
 * Bounds: MSGSRC_FILES_MAX files, MSGSRC_DEPTH_MAX directory levels,
 * MSGSRC_MESSAGE_MAX octets of a message (the rest is cut). Files are
 * mapped, not read whole, so an mbox of any size is read in bounded
 * memory. Not thread-safe: one reader per thread. */
#ifndef PETREL_FILTER_MSGSRC_H
#define PETREL_FILTER_MSGSRC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/span.h"

struct msgsrc;

struct msgsrc_msg {
	const char *name;	/* the file, or "FILE#N" for message N (from
				 * 1) of an mbox of several */
	struct span data;	/* without the "From " line */
	bool cut;		/* longer than MSGSRC_MESSAGE_MAX */
};

/* List the files of paths[0..n). -1 with err (ERR_NOTFOUND naming a path
 * that does not exist, ERR_LIMIT past MSGSRC_FILES_MAX). */
int msgsrc_open(const char *const *paths, size_t n, struct msgsrc **out,
		struct err *err) __attribute__((warn_unused_result));
/* The next message: 1 (*out valid until the next call or close), 0 no
 * more, -1 a file could not be read (err names it; the next call goes
 * on with the next file). Empty files and empty mbox messages are
 * skipped (an mbox's messages keep their numbers). */
int msgsrc_next(struct msgsrc *m, struct msgsrc_msg *out, struct err *err);
void msgsrc_close(struct msgsrc **mp);

/* The splitting alone, on bytes (for the fuzzer and tests): whether data
 * starts with a "From " line, and from *pos (start at 0) the next
 * message into *msg (not cut): 1, or 0 at the end. Data that is not an
 * mbox is one message. */
bool msgsrc_is_mbox(struct span data);
int msgsrc_mbox_next(struct span data, size_t *pos, struct span *msg);

#endif
