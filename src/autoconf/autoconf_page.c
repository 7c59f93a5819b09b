/* autoconf_page.c - the settings page employees are sent to: the server
 * addresses of one domain in English and Chinese on one page (no
 * script, no external resources: it must work from a phone behind any
 * proxy), how to make an app password, and the Apple profile as a link
 * and a QR code. */
#include "autoconf/autoconf_private.h"

#include <stdlib.h>
#include <string.h>

static const char style[] =
	"<style>body{font-family:system-ui,\"PingFang SC\",\"Microsoft YaHei\","
	"sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222;"
	"line-height:1.5}table{border-collapse:collapse;width:100%}"
	"th,td{border:1px solid #bbb;padding:.4em .6em;text-align:left}"
	"th{background:#eee}td.port{font-variant-numeric:tabular-nums}"
	"code{background:#f4f4f4;padding:0 .2em}nav a{margin-right:1em}"
	".qr{border:1px solid #ddd}</style>\n";

static void head(struct ac_out *o, const char *title)
{
	ac_put(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		  "<meta charset=\"utf-8\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, "
		  "initial-scale=1\">\n<title>");
	ac_text(o, title);
	ac_put(o, "</title>\n");
	ac_put(o, style);
	ac_put(o, "</head>\n<body>\n");
}

static void table(struct ac_out *o, const struct cfg_client_services *svc,
		  bool zh)
{
	struct autoconf_row rows[CFG_SVC_N];
	size_t n = autoconf_rows(svc, rows);
	ac_put(o, zh ? "<table id=\"servers-zh\">\n<tr><th>服务</th><th>服务器</th>"
		       "<th>端口</th><th>加密方式</th></tr>\n" :
		       "<table id=\"servers-en\">\n<tr><th>Service</th><th>Server</th>"
		       "<th>Port</th><th>Security</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		ac_putf(o, "<tr class=\"service\" data-service=\"%s\"><td>",
			rows[i].svc->name);
		ac_put(o, zh ? rows[i].label_zh : rows[i].label_en);
		ac_put(o, "</td><td class=\"host\">");
		ac_text(o, rows[i].svc->host);
		ac_putf(o, "</td><td class=\"port\">%u</td><td>%s</td></tr>\n",
			rows[i].svc->port, rows[i].security);
	}
	ac_put(o, "</table>\n");
}

char *autoconf_settings_html(const struct cfg_client_services *svc,
			     const struct autoconf_who *w,
			     const char *profile_url, size_t *len_out)
{
	struct ac_out o;
	ac_begin(&o);
	char title[SMTP_DOMAIN_MAX + 64];
	snprintf(title, sizeof title, "Mail settings for %s / 邮件设置", w->domain);
	head(&o, title);
	ac_put(&o, "<nav><a href=\"#en\">English</a><a href=\"#zh\">中文</a></nav>\n");

	ac_put(&o, "<section id=\"en\" lang=\"en\">\n<h1>Mail settings for ");
	ac_text(&o, w->domain);
	ac_put(&o, "</h1>\n<p>Most mail apps set themselves up from your e-mail "
		   "address alone. If yours asks, use these servers:</p>\n");
	table(&o, svc, false);
	ac_put(&o, "<p><b>User name:</b> your full e-mail address (<code>name@");
	ac_text(&o, w->domain);
	ac_put(&o, "</code>).<br><b>Password:</b> your mailbox password, or an "
		   "app password.</p>\n"
		   "<h2>App passwords</h2>\n<p>If your account uses two-step "
		   "verification, a mail app cannot use your password: give it "
		   "an <b>app password</b> instead, one per device, which you "
		   "can revoke at any time. Create one on your account page "
		   "(<code>POST /api/v1/mailboxes/&lt;you&gt;/app-passwords</code> "
		   "after signing in), or ask your administrator "
		   "(<code>petrelctl apppass add name@");
	ac_text(&o, w->domain);
	ac_put(&o, " \"Phone\"</code>). It is shown once; type it where the app "
		   "asks for the password.</p>\n"
		   "<h2>iPhone, iPad and Mac</h2>\n<p>Install the configuration "
		   "profile: <a class=\"profile\" href=\"");
	ac_text(&o, profile_url);
	ac_put(&o, "\">");
	ac_text(&o, profile_url);
	ac_put(&o, "</a>, or scan the code below with the camera.</p>\n</section>\n");

	ac_put(&o, "<section id=\"zh\" lang=\"zh-CN\">\n<h1>");
	ac_text(&o, w->domain);
	ac_put(&o, " 邮件设置</h1>\n<p>大多数邮件客户端只需输入邮箱地址即可自动完成设置。"
		   "如需手动设置，请使用以下服务器：</p>\n");
	table(&o, svc, true);
	ac_put(&o, "<p><b>用户名：</b>完整的邮箱地址（<code>name@");
	ac_text(&o, w->domain);
	ac_put(&o, "</code>）。<br><b>密码：</b>邮箱密码或客户端专用密码。</p>\n"
		   "<h2>客户端专用密码</h2>\n<p>如果账号开启了两步验证，邮件客户端不能使用"
		   "邮箱密码登录，请为每台设备生成一个<b>客户端专用密码</b>（可随时撤销）："
		   "在账号页面生成（登录后 <code>POST /api/v1/mailboxes/&lt;邮箱&gt;"
		   "/app-passwords</code>），或请管理员生成（<code>petrelctl apppass add "
		   "name@");
	ac_text(&o, w->domain);
	ac_put(&o, " \"Phone\"</code>）。密码只显示一次，在客户端要求输入密码处填写即可。</p>\n"
		   "<h2>iPhone、iPad 和 Mac</h2>\n<p>安装描述文件：<a class=\"profile\" href=\"");
	ac_text(&o, profile_url);
	ac_put(&o, "\">");
	ac_text(&o, profile_url);
	ac_put(&o, "</a>，或用相机扫描下面的二维码。</p>\n</section>\n");

	size_t qlen;
	char *qr = autoconf_qr_svg(profile_url, &qlen);
	if (qr != NULL) {
		ac_put(&o, "<figure>");
		ac_putn(&o, qr, qlen);
		ac_put(&o, "<figcaption>Apple profile / 描述文件</figcaption></figure>\n");
		free(qr);
	}
	ac_put(&o, "</body>\n</html>\n");
	return ac_finish(&o, len_out);
}

char *autoconf_unknown_html(size_t *len_out)
{
	struct ac_out o;
	ac_begin(&o);
	head(&o, "Not found / 未找到");
	/* the same words for every name: which domains are hosted here is
	 * for DNS (MX records) to say, not for this page */
	ac_put(&o, "<h1>Not found / 未找到</h1>\n<p>This server has no mail "
		   "settings for that domain.</p>\n<p lang=\"zh-CN\">本服务器没有该域名的"
		   "邮件设置。</p>\n</body>\n</html>\n");
	return ac_finish(&o, len_out);
}
