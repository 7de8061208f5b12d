import { Router } from 'express';
import type { AppServices } from '../app.js';

export function modemRoutes({ gateway }: AppServices): Router {
  const router = Router();
  router.get('/modems', async (_req, res) => {
    let modems = null;
    let error = null;
    if (!gateway.isConnected()) {
      error = 'Нет связи с Asterisk (AMI). Проверьте, что Asterisk запущен и настройки AMI верны; служба переподключается сама.';
    } else {
      try {
        modems = await gateway.listModems();
      } catch {
        error = 'Asterisk не ответил на запрос списка модемов. Обновите страницу через минуту.';
      }
    }
    res.render('modems', { title: 'Модемы', modems, error, connected: gateway.isConnected() });
  });
  return router;
}
