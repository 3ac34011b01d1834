/** Line icons drawn inline (SVG elements, no files, no inline styles); decorative unless labelled by their button. */
import type { ReactNode } from 'react';

function Svg({ children, size = 16 }: { children: ReactNode; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export const IconJournal = () => (
  <Svg size={18}>
    <path d="M4 5h16M4 10h16M4 15h16M4 20h10" />
  </Svg>
);
export const IconIntake = () => (
  <Svg size={18}>
    <path d="M4 13h4l2 3h4l2-3h4" />
    <path d="M5 13 7 5h10l2 8v6H5z" />
  </Svg>
);
export const IconMonitoring = () => (
  <Svg size={18}>
    <path d="M4 20V10M10 20V4M16 20v-7M22 20H2" />
  </Svg>
);
export const IconMoon = () => (
  <Svg>
    <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
  </Svg>
);
export const IconRefresh = () => (
  <Svg size={14}>
    <path d="M20 11a8 8 0 0 0-14.9-3M4 4v4h4M4 13a8 8 0 0 0 14.9 3M20 20v-4h-4" />
  </Svg>
);
export const IconSearch = () => (
  <Svg size={14}>
    <circle cx="11" cy="11" r="7" />
    <path d="m20 20-4-4" />
  </Svg>
);
export const IconClose = () => (
  <Svg size={14}>
    <path d="M6 6l12 12M18 6 6 18" />
  </Svg>
);
export const IconFirst = () => (
  <Svg size={14}>
    <path d="M17 18l-6-6 6-6M7 6v12" />
  </Svg>
);
export const IconPrevious = () => (
  <Svg size={14}>
    <path d="M15 18l-6-6 6-6" />
  </Svg>
);
export const IconNext = () => (
  <Svg size={14}>
    <path d="M9 18l6-6-6-6" />
  </Svg>
);
export const IconLast = () => (
  <Svg size={14}>
    <path d="M7 18l6-6-6-6M17 6v12" />
  </Svg>
);
export const IconSortAsc = () => (
  <Svg size={12}>
    <path d="M12 19V5M6 11l6-6 6 6" />
  </Svg>
);
export const IconSortDesc = () => (
  <Svg size={12}>
    <path d="M12 5v14M6 13l6 6 6-6" />
  </Svg>
);
export const IconSortNone = () => (
  <Svg size={12}>
    <path d="M8 9l4-4 4 4M8 15l4 4 4-4" />
  </Svg>
);
export const IconAlert = () => (
  <Svg size={14}>
    <path d="M12 9v4M12 17h.01" />
    <path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z" />
  </Svg>
);
export const IconCollapse = () => (
  <Svg size={16}>
    <path d="M15 18l-6-6 6-6" />
  </Svg>
);
export const IconExpand = () => (
  <Svg size={16}>
    <path d="M9 18l6-6-6-6" />
  </Svg>
);
export const IconLogo = () => (
  <svg className="logo" width="26" height="26" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="6" fill="currentColor" />
    <path
      className="logo-mark"
      d="M16 6a10 10 0 1 0 5.9 18.1l2.6 2.6 2.1-2.1-2.6-2.6A10 10 0 0 0 16 6zm0 3.2a6.8 6.8 0 1 1 0 13.6 6.8 6.8 0 0 1 0-13.6z"
    />
  </svg>
);
export const IconCalendar = () => (
  <Svg size={14}>
    <rect x="3" y="5" width="18" height="16" rx="2" />
    <path d="M3 10h18M8 3v4M16 3v4" />
  </Svg>
);
export const IconCheckPaper = () => (
  <Svg>
    <path d="M6 2h9l5 5v15H6z" />
    <path d="M9 14l2 2 4-4" />
  </Svg>
);
export const IconUser = () => (
  <Svg size={18}>
    <circle cx="12" cy="8" r="4" />
    <path d="M4 21c0-4 4-6 8-6s8 2 8 6" />
  </Svg>
);
export const IconUsers = () => (
  <Svg size={18}>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2 20c0-3.5 3.2-5.5 7-5.5s7 2 7 5.5" />
    <path d="M16 4.5a3.5 3.5 0 0 1 0 7M18 14.7c2.4.6 4 2.4 4 5.3" />
  </Svg>
);

/** Two arrows chasing each other: the sync panel in the navigation. */
export const IconSync = () => (
  <Svg size={18}>
    <path d="M21 4v6h-6" />
    <path d="M3 20v-6h6" />
    <path d="M5 9a8 8 0 0 1 13.2-3L21 10" />
    <path d="M3 14l2.8 4A8 8 0 0 0 19 15" />
  </Svg>
);

export const IconClock = () => (
  <Svg size={14}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Svg>
);
