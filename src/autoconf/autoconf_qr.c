/* autoconf_qr.c - a QR code as inline SVG, for the settings page's link
 * to the Apple profile: libqrencode draws the modules, this file only
 * writes them out, one path with a unit square per dark module. */
#include "autoconf/autoconf_private.h"

#include <string.h>

#include <qrencode.h>

char *autoconf_qr_svg(const char *text, size_t *len_out)
{
	/* M: 15% of the code may be damaged, the usual choice for screens */
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (qr == NULL)
		return NULL;
	const int quiet = 4;	/* ISO/IEC 18004: 4 modules of margin */
	int size = qr->width + 2 * quiet;
	struct ac_out o;
	ac_begin(&o);
	ac_putf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" "
		    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		    "shape-rendering=\"crispEdges\" role=\"img\">"
		    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
		    "<path fill=\"#000\" d=\"", size * 4, size * 4, size, size,
		size, size);
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++)
			if (qr->data[y * qr->width + x] & 1)
				ac_putf(&o, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	ac_put(&o, "\"/></svg>");
	QRcode_free(qr);
	return ac_finish(&o, len_out);
}
