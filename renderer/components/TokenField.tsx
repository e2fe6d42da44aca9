// The Hugging Face access token for private and gated models: a password field that hands the
// token to the back end (hub.setToken) and never shows a stored one back. Where there is no OS
// keychain the back end keeps it only in memory, and the field says so.
import { useEffect, useState } from "react";
import type { ReplyOf } from "../../electron/contract";
import { useApi } from "../state/context";

type TokenStatus = ReplyOf<"hub.tokenStatus">;

export function TokenField() {
  const api = useApi();
  const [status, setStatus] = useState<TokenStatus | null>(null);
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api
      .request("hub.tokenStatus", {})
      .then((s) => live && setStatus(s))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [api]);

  const save = async (value: string | null) => {
    setError(null);
    try {
      setStatus(await api.request("hub.setToken", { token: value }));
      setToken("");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div className="token-field">
      <form
        className="repo-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) void save(token.trim());
        }}
      >
        <input
          type="password"
          className="text-input"
          aria-label="Hugging Face access token"
          placeholder={status?.stored ? "A token is stored" : "hf_…"}
          autoComplete="off"
          value={token}
          maxLength={500}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit" className="btn" disabled={!token.trim()}>
          Save token
        </button>
        {status?.stored && (
          <button type="button" className="btn btn-quiet" onClick={() => void save(null)}>
            Forget token
          </button>
        )}
      </form>
      {status && (
        <p className="muted small" data-testid="token-status">
          {status.stored ? "A token is stored. " : ""}
          {status.canStore
            ? "The token is kept in this computer's keychain and sent only to the model hub."
            : "This computer has no keychain Exitlane can use, so the token is kept only for this session."}
        </p>
      )}
      <p className="muted small">
        Gated models ask you to accept their terms with your Hugging Face account on its website; then create
        an access token in that account's settings and paste it here.
      </p>
      {error && (
        <p className="job-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
