/** Entry of the renderer: styles (emitted by Vite as a file, for the CSP), then the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles/theme.css';
import './styles/frame.css';
import './styles/journal.css';
import './styles/signing.css';
import './auth/auth.css';
import './sync/sync.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
