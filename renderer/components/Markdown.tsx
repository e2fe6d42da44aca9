import { memo, useDeferredValue, type ComponentProps } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";

// Raw HTML in answers is never rendered (react-markdown's default), images are shown as their alt
// text (no remote content, and the CSP would block it anyway), links open outside the app.
const components: Components = {
  img: ({ alt }) => <span className="md-image-alt">[image{alt ? `: ${alt}` : ""}]</span>,
  a: ({ href, children }: ComponentProps<"a">) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
};

const remarkPlugins = [remarkGfm];
const rehypePlugins = [[rehypeHighlight, { detect: true, ignoreMissing: true }]] as ComponentProps<
  typeof ReactMarkdown
>["rehypePlugins"];

/**
 * Markdown with GFM and code highlighting (highlight.js through rehype-highlight). While an answer
 * streams, the text is deferred so a burst of tokens re-parses once, at low priority.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const deferred = useDeferredValue(text);
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {deferred}
      </ReactMarkdown>
    </div>
  );
});
