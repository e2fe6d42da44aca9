import { memo, useDeferredValue, useMemo, type ComponentProps } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { splitMarkdownBlocks } from "../state/markdownBlocks";

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
 * Markdown with GFM and code highlighting (highlight.js through rehype-highlight). The text is split
 * into top-level blocks so that, while an answer streams, only its last block is parsed again; the
 * blocks above keep their rendered output. The text is also deferred, so a burst of tokens never
 * holds up typing or scrolling.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const deferred = useDeferredValue(text);
  const blocks = useMemo(() => splitMarkdownBlocks(deferred), [deferred]);
  return (
    <div className="markdown">
      {blocks.map((block, i) => (
        <MarkdownBlock key={i} text={block} />
      ))}
    </div>
  );
});

const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
      {text}
    </ReactMarkdown>
  );
});
