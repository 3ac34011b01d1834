/** The buttons of the actions main offers now, drawn from the action table in its order. */
import { useI18n } from '../i18n/I18nProvider';
import { ACTION_TABLE, actionEnabled, offeredActions, type ActionContext, type CardAction } from './actions';

export function ActionButtons({
  context,
  busy,
  onPress,
}: {
  context: ActionContext;
  busy: boolean;
  onPress: (action: CardAction) => void;
}) {
  const { t } = useI18n();
  return (
    <div className="card-actions" data-testid="card-actions">
      {offeredActions(context.card).map((action) => {
        const spec = ACTION_TABLE[action];
        const hint = spec.hintKey?.(context);
        return (
          <button
            key={action}
            type="button"
            className={spec.tone ? `button button-${spec.tone}` : 'button'}
            data-testid={spec.testId}
            disabled={!actionEnabled(action, context, busy)}
            title={hint ? t(hint) : undefined}
            onClick={() => onPress(action)}
          >
            {t(spec.labelKey)}
          </button>
        );
      })}
    </div>
  );
}
