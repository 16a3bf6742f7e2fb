/**
 * The page every app template starts from (app-templates.ts): the HTML shell with the app's
 * name as title and heading, its style sheet and its script; each template gives the body.
 */

/**
 * index.html of a template: `body` between the heading and the script, `head` (more links)
 * after the style sheet; both as lines indented by two, each ending in a newline.
 */
export function templatePage (body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{NAME}}</title>
  <link rel="stylesheet" href="style.css">
${head}</head>
<body>
  <h1>{{NAME}}</h1>
${body}  <script src="app.js"></script>
</body>
</html>
`
}
